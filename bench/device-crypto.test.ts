/**
 * The bench's devices as the servers see them. The JOSE underneath (@mpay/crypto/node) is tested against the RFCs'
 * vectors and jose in packages/crypto/src/compact-jose.test.ts; here, what the devices build from it.
 */
import { createPublicKey, KeyObject } from "node:crypto";
import { compactVerify, CompactSign, exportJWK, generateKeyPair, importJWK } from "jose";
import { describe, expect, it } from "vitest";
import {
  decryptFrom,
  encryptTo,
  JosePolicyError,
  sealRecord,
  signIssuerCertificate,
  verifyWith,
  type NetworkRoot,
  type RecordBinding,
} from "@mpay/crypto";
import { JOSE_TYPES, termsBytes, type ApprovalTerms, type IssuerCertificate } from "@mpay/protocol";
import { pinChallengeMac } from "@mpay/wallet";
import {
  CertificateVerifier,
  DeviceCryptoError,
  es256Jws,
  freshP256,
  jweDecrypt,
  jweEncrypt,
  oneTimeKey,
  openRecordFast,
  pinChallengeMacFast,
  publicJwkOf,
  signTermsFast,
} from "./device-crypto.ts";

const KID = "A".repeat(43);
const now = Math.floor(Date.now() / 1000);
const terms: ApprovalTerms = {
  aud: "kstar",
  cardRef: "card_1",
  paymentId: "pay_1",
  merchantId: "mer_1",
  merchantName: "Bench Mall",
  amount: 1500,
  currency: "KRW",
  captureMethod: "manual",
  nonce: "AAAAAAAAAAAAAAAAAAAAAA",
  iat: now,
  exp: now + 120,
};

describe("ES256 with node:crypto, against jose", () => {
  it("signs the terms so that jose verifies them, and verifies what jose signed", async () => {
    // Not generateKeyPairSync: its JWK export below (publicJwkOf) can deadlock Node 20 (issue 11).
    const { privateKey } = freshP256();
    const publicKey = createPublicKey(privateKey);
    const jws = signTermsFast(privateKey, KID, terms);
    // jose's verifier, with the key as the pay server holds it (a JWK) and through the policy of @mpay/crypto.
    const verified = await compactVerify(jws, await importJWK(publicJwkOf(publicKey), "ES256"));
    expect(Buffer.from(verified.payload).equals(Buffer.from(termsBytes(terms)))).toBe(true);
    expect(verified.protectedHeader).toEqual({ alg: "ES256", kid: KID, typ: "mpay-approval+jws" });
    await expect(verifyWith(jws, publicJwkOf(publicKey), "mpay-approval+jws")).resolves.toBeTruthy();

    // Its other JWSs (the payment inside the envelope) with the same header order as its approvals (device-key.ts).
    const payment = es256Jws("hello", privateKey, { typ: JOSE_TYPES.payment, kid: KID });
    const opened = await compactVerify(payment, publicKey);
    expect(opened.protectedHeader).toEqual({ alg: "ES256", kid: KID, typ: JOSE_TYPES.payment });
    expect(Object.keys(opened.protectedHeader)).toEqual(["alg", "kid", "typ"]);
    expect(Buffer.from(opened.payload).toString()).toBe("hello");
  });

  it("refuses to sign expired terms, as the SDK does", () => {
    const { privateKey } = freshP256();
    expect(() => signTermsFast(privateKey, KID, { ...terms, iat: now - 600, exp: now - 300 })).toThrow(/terms_expired/);
  });
});

describe("JWE ECDH-ES+A256KW / A256GCM with node:crypto, against jose", () => {
  const plaintext = new TextEncoder().encode(JSON.stringify({ card: "x".repeat(400) }));

  it("encrypts what jose (the issuer's decryptFrom) opens", async () => {
    const issuer = await generateKeyPair("ECDH-ES+A256KW", { crv: "P-256" });
    const recipient = KeyObject.from(issuer.publicKey);
    const jwe = jweEncrypt(plaintext, recipient, { typ: JOSE_TYPES.paymentEnvelope, kid: "issuer-1" });
    const opened = await decryptFrom(jwe, issuer.privateKey, JOSE_TYPES.paymentEnvelope);
    expect(Buffer.from(opened.plaintext).equals(Buffer.from(plaintext))).toBe(true);
    expect(opened.header).toMatchObject({ alg: "ECDH-ES+A256KW", enc: "A256GCM", kid: "issuer-1" });
  });

  it("opens what jose (the pay server's encryptTo) made, to a one-time key", async () => {
    const device = oneTimeKey();
    const jwe = await encryptTo(plaintext, device.publicJwk, { typ: JOSE_TYPES.release });
    expect(jweDecrypt(jwe, device.privateKey, JOSE_TYPES.release).equals(Buffer.from(plaintext))).toBe(true);
    // Another key, another typ or a changed byte: refused.
    expect(() => jweDecrypt(jwe, oneTimeKey().privateKey, JOSE_TYPES.release)).toThrow(/could not be decrypted/);
    expect(() => jweDecrypt(jwe, device.privateKey, JOSE_TYPES.paymentEnvelope)).toThrow(/expected a/);
    const parts = jwe.split(".");
    parts[3] = `${parts[3]!.startsWith("A") ? "B" : "A"}${parts[3]!.slice(1)}`;
    expect(() => jweDecrypt(parts.join("."), device.privateKey, JOSE_TYPES.release)).toThrow(JosePolicyError);
  });
});

describe("the rest of the device's path with node:crypto", () => {
  it("makes the same PIN challenge MAC as the wallet SDK", async () => {
    const sessionKey = new Uint8Array(64).map((_, i) => i);
    expect(pinChallengeMacFast(sessionKey, "chal_1", terms)).toBe(await pinChallengeMac(sessionKey, "chal_1", terms));
  });

  it("opens a card record the SDK sealed, and only for its binding", async () => {
    const dek = new Uint8Array(32).fill(7);
    const binding: RecordBinding = { purpose: "card", cardId: "card_1", payerId: "p_1", deviceId: "d_1", version: 1 };
    const sealed = await sealRecord(dek, binding, new TextEncoder().encode('{"pan":"4111000000000016"}'));
    expect(openRecordFast(dek, binding, sealed).toString()).toBe('{"pan":"4111000000000016"}');
    expect(() => openRecordFast(dek, { ...binding, deviceId: "d_2" }, sealed)).toThrow(DeviceCryptoError);
  });

  it("checks an issuer certificate as verifyIssuerCertificate does: root, window, BIN", async () => {
    const root = await generateKeyPair("ES256");
    const { kty, crv, x, y } = await exportJWK(root.publicKey);
    const roots: NetworkRoot[] = [{ kid: "root-1", name: "Test", jwk: { kty: "EC", crv: "P-256", x: x!, y: y! } }];
    expect([kty, crv]).toEqual(["EC", "P-256"]);
    const issuerKey = oneTimeKey().publicJwk;
    const certificate: IssuerCertificate = {
      issuerId: "kstar",
      name: "K Star Card",
      binRanges: [{ from: "411100", to: "411199" }],
      jwk: issuerKey,
      kid: "issuer-1",
      nbf: now - 60,
      exp: now + 3600,
    };
    const jws = await signIssuerCertificate(certificate, root.privateKey, "root-1");
    const verifier = new CertificateVerifier(roots);
    expect(verifier.verify(jws, now, "4111000000000016")).toEqual(certificate);
    expect(verifier.recipientKey(certificate)).toBe(verifier.recipientKey(certificate)); // parsed once
    expect(() => verifier.verify(jws, now, "5500000000000004")).toThrow(/BIN/);
    expect(() => verifier.verify(jws, now + 7200)).toThrow(/not valid now/);
    expect(() => new CertificateVerifier([]).verify(jws, now)).toThrow(/root this device trusts/);
  });
});
