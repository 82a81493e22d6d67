/**
 * Neither kind of network certificate can be steered by whoever hands it over (issue 7, hole 2: the pay server
 * serves the issuer certificates to the wallet; a hostile one would like the wallet to trust a key of its own).
 * Every trick that names or carries a key in the JWS header — an embedded `jwk`, a `jku`/`x5u` URL, an `x5c`
 * chain, a shipped root's `kid` on the attacker's signature, `alg` swapped to HS256 keyed with the root's public
 * key or to `none`, one kind of certificate passed off as the other — is refused, and
 * nothing is fetched from anywhere while checking.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import canonicalize from "canonicalize";
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair, type JWK } from "jose";
import { JOSE_TYPES, type EcPublicJwk, type IssuerCertificate, type StatementKeyCertificate } from "@mpay/protocol";
import { signIssuerCertificate, verifyIssuerCertificate } from "./issuer-certificate.ts";
import type { NetworkRoot } from "./network-root.ts";
import { signStatementKeyCertificate, verifyStatementKeyCertificate } from "./statement-key-certificate.ts";

const NOW = 1_800_000_000;
const b64 = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

async function keyPair(alg: "ES256" | "ECDH-ES+A256KW") {
  const { privateKey, publicKey } = await generateKeyPair(alg, { crv: "P-256", extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  const jwk = { kty, crv, x, y } as EcPublicJwk;
  return { privateKey, jwk, kid: await calculateJwkThumbprint(jwk) };
}

describe("network certificates cannot be steered by their bearer", async () => {
  const shipped = await keyPair("ES256");
  const roots: NetworkRoot[] = [{ kid: shipped.kid, jwk: shipped.jwk, name: "Shipped Root" }];
  const attacker = await keyPair("ES256");
  const attackerEncryption = await keyPair("ECDH-ES+A256KW");
  const issuerContent: IssuerCertificate = {
    issuerId: "sampo",
    name: "Sampo Card",
    binRanges: [{ from: "000000", to: "999999" }],
    jwk: attackerEncryption.jwk,
    kid: attackerEncryption.kid,
    nbf: NOW - 10,
    exp: NOW + 3600,
  };
  const statementContent: StatementKeyCertificate = {
    acquirerId: "mpay",
    jwk: attacker.jwk,
    kid: attacker.kid,
    nbf: NOW - 10,
    exp: NOW + 3600,
  };
  const kinds = [
    {
      kind: "issuer certificate",
      typ: JOSE_TYPES.issuerCertificate,
      content: issuerContent,
      verify: (jws: string) => verifyIssuerCertificate(jws, roots, NOW),
    },
    {
      kind: "statement-key certificate",
      typ: JOSE_TYPES.statementKeyCertificate,
      content: statementContent,
      verify: (jws: string) => verifyStatementKeyCertificate(jws, roots, NOW),
    },
  ];
  const fetchSpy = vi.fn(async () => new Response("{}"));

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it.each(kinds)("accepts a $kind only under the shipped root's own signature", async ({ content, verify }) => {
    const genuine =
      "issuerId" in content
        ? await signIssuerCertificate(content, shipped.privateKey, shipped.kid)
        : await signStatementKeyCertificate(content, shipped.privateKey, shipped.kid);
    await expect(verify(genuine)).resolves.toEqual(content);
  });

  it.each(kinds)(
    "refuses a $kind whose header names or carries a key of the bearer's",
    async ({ typ, content, verify }) => {
      vi.stubGlobal("fetch", fetchSpy);
      const payload = new TextEncoder().encode(canonicalize(content));
      const signedBy = (header: Record<string, unknown>) =>
        new CompactSign(payload).setProtectedHeader({ alg: "ES256", typ, ...header }).sign(attacker.privateKey);
      const attackerJwk: JWK = { ...attacker.jwk };
      const forged: Array<[string, string]> = [
        ["embedded jwk, its own kid", await signedBy({ kid: attacker.kid, jwk: attackerJwk })],
        ["embedded jwk under the shipped root's kid", await signedBy({ kid: shipped.kid, jwk: attackerJwk })],
        ["a jku to fetch keys from", await signedBy({ kid: attacker.kid, jku: "http://127.0.0.1:9/jwks.json" })],
        ["an x5u to fetch a chain from", await signedBy({ kid: attacker.kid, x5u: "http://127.0.0.1:9/chain.pem" })],
        ["an x5c chain", await signedBy({ kid: attacker.kid, x5c: ["MIIBjunk"] })],
        ["no kid", await signedBy({})],
      ];
      for (const [what, jws] of forged)
        await expect(verify(jws), what).rejects.toMatchObject({ code: "certificate_untrusted" });
      expect(fetchSpy).not.toHaveBeenCalled();
    },
  );

  it.each(kinds)("refuses a $kind with its algorithm swapped", async ({ typ, content, verify }) => {
    const payload = new TextEncoder().encode(canonicalize(content));
    // HS256 keyed with the root's public key as text: the classic swap that a verifier taking `alg` from the header falls for.
    const hmac = await new CompactSign(payload)
      .setProtectedHeader({ alg: "HS256", typ, kid: shipped.kid })
      .sign(new TextEncoder().encode(JSON.stringify(shipped.jwk)));
    const unsigned = `${b64({ alg: "none", typ, kid: shipped.kid })}.${b64(canonicalize(content))}.`;
    for (const [what, jws] of [
      ["HS256", hmac],
      ["none", unsigned],
    ] as const) {
      await expect(verify(jws), what).rejects.toMatchObject({ code: "certificate_untrusted" });
    }
  });

  it("never takes one kind of certificate for the other, though the same root signed both", async () => {
    const asStatementKey = await new CompactSign(new TextEncoder().encode(canonicalize(statementContent)))
      .setProtectedHeader({ alg: "ES256", typ: JOSE_TYPES.issuerCertificate, kid: shipped.kid })
      .sign(shipped.privateKey);
    await expect(verifyStatementKeyCertificate(asStatementKey, roots, NOW)).rejects.toMatchObject({
      code: "certificate_untrusted",
    });
    const statementKeyCertificate = await signStatementKeyCertificate(
      statementContent,
      shipped.privateKey,
      shipped.kid,
    );
    await expect(verifyIssuerCertificate(statementKeyCertificate, roots, NOW)).rejects.toMatchObject({
      code: "certificate_untrusted",
    });
    const issuerCertificate = await signIssuerCertificate(issuerContent, shipped.privateKey, shipped.kid);
    await expect(verifyStatementKeyCertificate(issuerCertificate, roots, NOW)).rejects.toMatchObject({
      code: "certificate_untrusted",
    });
  });
});

describe("statement-key certificates", async () => {
  const root = await keyPair("ES256");
  const roots: NetworkRoot[] = [{ kid: root.kid, jwk: root.jwk, name: "Root" }];
  const key = await keyPair("ES256");
  const content: StatementKeyCertificate = {
    acquirerId: "mpay",
    jwk: key.jwk,
    kid: key.kid,
    nbf: NOW - 10,
    exp: NOW + 3600,
  };

  it("holds only within the validity window, and refuses junk and unknown members", async () => {
    const jws = await signStatementKeyCertificate(content, root.privateKey, root.kid);
    await expect(verifyStatementKeyCertificate(jws, roots, NOW + 3600)).rejects.toMatchObject({
      code: "certificate_expired",
    });
    await expect(verifyStatementKeyCertificate(jws, roots, NOW - 11)).rejects.toMatchObject({
      code: "certificate_not_yet_valid",
    });
    await expect(verifyStatementKeyCertificate("junk", roots, NOW)).rejects.toMatchObject({
      code: "certificate_invalid",
    });
    const extra = await new CompactSign(new TextEncoder().encode(JSON.stringify({ ...content, binRanges: [] })))
      .setProtectedHeader({ alg: "ES256", typ: JOSE_TYPES.statementKeyCertificate, kid: root.kid })
      .sign(root.privateKey);
    await expect(verifyStatementKeyCertificate(extra, roots, NOW)).rejects.toMatchObject({
      code: "certificate_invalid",
    });
  });
});
