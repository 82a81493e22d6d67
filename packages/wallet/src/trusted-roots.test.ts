/**
 * No one but the app's build can make a wallet trust a root (issue 7, hole 2): the roots are checked and copied at
 * construction, and the pay server's answers — even one that names a root of its own beside a certificate that
 * root signed — change nothing: the wallet refuses the issuer and encrypts nothing.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import { signIssuerCertificate, type NetworkRoot } from "@mpay/crypto";
import type { IssuerCertificate } from "@mpay/protocol";
import { isWalletError } from "./errors.ts";
import { FileKeyStore } from "./file-key-store.ts";
import { APPROVING_CARD, listeningTestPay, type ListeningPay } from "@mpay/testing/pay-server";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { trustedRootsOf } from "./trusted-roots.ts";
import { Wallet } from "./wallet.ts";

async function newRoot(name: string): Promise<{ root: NetworkRoot; privateKey: CryptoKey; d: string }> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  const { d } = await exportJWK(privateKey);
  const jwk = { kty: "EC" as const, crv: "P-256" as const, x: x!, y: y! };
  return { root: { kid: await calculateJwkThumbprint(jwk), jwk, name }, privateKey: privateKey as CryptoKey, d: d! };
}

describe("the trusted roots of a wallet", () => {
  it("are a frozen copy of public keys: a later change to the caller's array, or a private key, changes nothing", async () => {
    const given = [...TEST_NETWORK_ROOTS];
    const roots = trustedRootsOf(given);
    given.push((await newRoot("Pushed Later")).root);
    expect(roots.map((r) => r.kid)).toEqual(TEST_NETWORK_ROOTS.map((r) => r.kid));
    expect(Object.isFrozen(roots) && roots.every((r) => Object.isFrozen(r) && Object.isFrozen(r.jwk))).toBe(true);

    const { root, d } = await newRoot("Private");
    expect(() => trustedRootsOf([{ ...root, jwk: { ...root.jwk, d } }])).toThrow(/not a network root public key/);
    expect(() => trustedRootsOf([{ ...root, jwk: { kty: "RSA", n: "AQAB", e: "AQAB" } }])).toThrow(/trustedRoots\[0\]/);
    expect(() => trustedRootsOf([{ jwk: root.jwk, name: "no kid" }])).toThrow(/trustedRoots\[0\]/);
    expect(() => trustedRootsOf("TEST_NETWORK_ROOTS")).toThrow(/trustedRoots/);
  });
});

describe("a pay server that names roots of its own", () => {
  let server: ListeningPay;
  let folder: string;

  beforeAll(async () => {
    server = await listeningTestPay("pglite");
    folder = await mkdtemp(join(tmpdir(), "mpay-roots-"));
  });
  afterAll(async () => {
    await server?.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it("gets no root trusted and no card encrypted: the wallet refuses the issuer it vouches for", async () => {
    const rogue = await newRoot("Rogue Network Root");
    const attackerKey = await generateKeyPair("ECDH-ES+A256KW", { crv: "P-256", extractable: true });
    const { x, y } = await exportJWK(attackerKey.publicKey);
    const jwk = { kty: "EC" as const, crv: "P-256" as const, x: x!, y: y! };
    const now = Math.floor(Date.now() / 1000);
    const minted: IssuerCertificate = {
      issuerId: "sampo",
      name: "Sampo Card",
      binRanges: [{ from: "000000", to: "999999" }],
      jwk,
      kid: await calculateJwkThumbprint(jwk),
      nbf: now - 60,
      exp: now + 3600,
    };
    const certificate = await signIssuerCertificate(minted, rogue.privateKey, rogue.root.kid);
    // Every way an answer could try to hand over a root: beside the listing, inside each entry, under the names a
    // careless client might read.
    const sent: string[] = [];
    const hostile: typeof fetch = async (input, init) => {
      sent.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
      const response = await fetch(input, init);
      if (!String(input).endsWith("/v1/payer/issuers")) return response;
      const body = (await response.json()) as { data: Array<Record<string, unknown>> };
      const rogueRoots = [rogue.root];
      const answer = {
        ...body,
        roots: rogueRoots,
        trustedRoots: rogueRoots,
        data: body.data.map((i) => ({ ...i, certificate, root: rogue.root, trustedRoots: rogueRoots })),
      };
      return new Response(JSON.stringify(answer), { status: 200, headers: { "content-type": "application/json" } });
    };
    const { client } = await server.signedInClient(undefined, hostile);
    const wallet = new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore: new FileKeyStore(join(folder, "keys.json"), FileKeyStore.newDeviceSecret()),
      client,
      keyStretching: "memory-constrained",
    });
    await wallet.bindThisDevice("Phone");

    const refused = await wallet.startCardEnrollment(APPROVING_CARD).then(
      () => null,
      (error: unknown) => error,
    );
    expect(isWalletError(refused, "issuer_not_trusted"), String(refused)).toBe(true);
    expect(sent.filter((s) => s.startsWith("POST /v1/payer/cards"))).toEqual([]);
  });
});
