import { describe, expect, it } from "vitest";
import { CompactSign, exportJWK, generateKeyPair } from "jose";
import type { EcPublicJwk, IssuerCertificate } from "@mpay/protocol";
import { signIssuerCertificate, verifyIssuerCertificate, type NetworkRoot } from "./issuer-certificate.ts";

async function newRoot(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  const root: NetworkRoot = { kid, name: kid, jwk: { kty, crv, x, y } as EcPublicJwk };
  return { root, privateKey };
}

async function issuerJwk(): Promise<EcPublicJwk> {
  const { publicKey } = await generateKeyPair("ECDH-ES+A256KW", { crv: "P-256", extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  return { kty, crv, x, y } as EcPublicJwk;
}

const NOW = 1_800_000_000;

describe("issuer certificates", async () => {
  const a = await newRoot("root-a");
  const b = await newRoot("root-b");
  const certificate: IssuerCertificate = {
    issuerId: "sampo",
    name: "Sampo Card",
    binRanges: [{ from: "941000", to: "941099" }],
    jwk: await issuerJwk(),
    kid: "sampo-enc-1",
    nbf: NOW - 10,
    exp: NOW + 3600,
  };

  it("verifies a certificate signed by a shipped root, and checks the card's BIN against its ranges", async () => {
    const jws = await signIssuerCertificate(certificate, a.privateKey, "root-a");
    await expect(verifyIssuerCertificate(jws, [a.root, b.root], NOW, "9410501234567890")).resolves.toEqual(certificate);
    await expect(verifyIssuerCertificate(jws, [a.root], NOW, "4111111111111111")).rejects.toMatchObject({
      code: "bin_not_covered",
    });
  });

  it("refuses a root it does not ship, a root's kid on another key's signature, and the validity window's outside", async () => {
    const rogue = await newRoot("root-a"); // same kid, another key: a substitute the pay server might hand out
    const forged = await signIssuerCertificate(certificate, rogue.privateKey, "root-a");
    await expect(verifyIssuerCertificate(forged, [a.root, b.root], NOW)).rejects.toMatchObject({
      code: "certificate_untrusted",
    });
    const unknown = await signIssuerCertificate(certificate, rogue.privateKey, "root-z");
    await expect(verifyIssuerCertificate(unknown, [a.root, b.root], NOW)).rejects.toMatchObject({
      code: "certificate_untrusted",
    });
    const jws = await signIssuerCertificate(certificate, b.privateKey, "root-b");
    await expect(verifyIssuerCertificate(jws, [a.root, b.root], NOW + 3600)).rejects.toMatchObject({
      code: "certificate_expired",
    });
    await expect(verifyIssuerCertificate(jws, [a.root, b.root], NOW - 11)).rejects.toMatchObject({
      code: "certificate_not_yet_valid",
    });
  });

  it("refuses a certificate of another typ, and junk", async () => {
    const other = await new CompactSign(new TextEncoder().encode(JSON.stringify(certificate)))
      .setProtectedHeader({ alg: "ES256", typ: "mpay-payment+jws", kid: "root-a" })
      .sign(a.privateKey);
    await expect(verifyIssuerCertificate(other, [a.root], NOW)).rejects.toMatchObject({
      code: "certificate_untrusted",
    });
    await expect(verifyIssuerCertificate("junk", [a.root], NOW)).rejects.toMatchObject({ code: "certificate_invalid" });
  });
});
