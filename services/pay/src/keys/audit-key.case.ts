/**
 * What every key provider's audit head key must do, checked the same way for dev, shamir and pkcs11
 * (audit-key.test.ts): publish a P-256 JWK whose kid is its RFC 7638 thumbprint, and sign ES256 signatures that
 * anyone verifies with that public key alone (node:crypto and jose, no provider code), for those bytes only.
 */
import { createPublicKey, verify } from "node:crypto";
import { calculateJwkThumbprint, compactVerify, importJWK } from "jose";
import { expect } from "vitest";
import type { AuditPublicKey, KeyProvider } from "./provider.ts";

const enc = new TextEncoder();

export async function expectAuditSigning(keys: KeyProvider): Promise<AuditPublicKey> {
  const jwk = await keys.auditPublicKey();
  const { kty, crv, x, y } = jwk;
  expect(jwk).toEqual({
    kty: "EC",
    crv: "P-256",
    x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    y: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    kid: await calculateJwkThumbprint({ kty, crv, x, y }, "sha256"),
    alg: "ES256",
    use: "sig",
  });

  const header = Buffer.from(JSON.stringify({ alg: "ES256", kid: jwk.kid, typ: "test" })).toString("base64url");
  const payload = Buffer.from('{"size":1}').toString("base64url");
  const input = enc.encode(`${header}.${payload}`);
  const signature = await keys.signAuditHead(input);
  expect(signature).toHaveLength(64);
  const publicKey = createPublicKey({ key: { kty, crv, x, y }, format: "jwk" });
  expect(verify("sha256", input, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature)).toBe(true);
  expect(
    verify("sha256", enc.encode(`${header}.${payload}x`), { key: publicKey, dsaEncoding: "ieee-p1363" }, signature),
  ).toBe(false);
  // An off-the-shelf JOSE library takes it as an ES256 JWS.
  const jws = `${header}.${payload}.${Buffer.from(signature).toString("base64url")}`;
  const verified = await compactVerify(jws, await importJWK(jwk, "ES256"), { algorithms: ["ES256"] });
  expect(new TextDecoder().decode(verified.payload)).toBe('{"size":1}');
  // ECDSA is randomised: a second signature differs and verifies too.
  const again = await keys.signAuditHead(input);
  expect(Buffer.from(again).equals(Buffer.from(signature))).toBe(false);
  expect(verify("sha256", input, { key: publicKey, dsaEncoding: "ieee-p1363" }, again)).toBe(true);
  return jwk;
}
