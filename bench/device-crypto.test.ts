import {
  createCipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  KeyObject,
} from "node:crypto";
import { compactVerify, CompactSign, exportJWK, generateKeyPair, importJWK } from "jose";
import { describe, expect, it } from "vitest";
import {
  decryptFrom,
  encryptTo,
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
  concatKdf,
  DeviceCryptoError,
  es256Jws,
  jweDecrypt,
  jweEncrypt,
  oneTimeKey,
  openRecordFast,
  pinChallengeMacFast,
  publicJwkOf,
  signTermsFast,
  verifyEs256Jws,
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
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jws = signTermsFast(privateKey, KID, terms);
    // jose's verifier, with the key as the pay server holds it (a JWK) and through the policy of @mpay/crypto.
    const verified = await compactVerify(jws, await importJWK(publicJwkOf(publicKey), "ES256"));
    expect(Buffer.from(verified.payload).equals(Buffer.from(termsBytes(terms)))).toBe(true);
    expect(verified.protectedHeader).toEqual({ alg: "ES256", kid: KID, typ: "mpay-approval+jws" });
    await expect(verifyWith(jws, publicJwkOf(publicKey), "mpay-approval+jws")).resolves.toBeTruthy();

    const joseKeys = await generateKeyPair("ES256");
    const joseJws = await new CompactSign(new TextEncoder().encode("hello"))
      .setProtectedHeader({ alg: "ES256", typ: "t", kid: "k" })
      .sign(joseKeys.privateKey);
    expect(verifyEs256Jws(joseJws, KeyObject.from(joseKeys.publicKey), "t").payload.toString()).toBe("hello");
  });

  it("refuses a tampered signature, another typ and another algorithm", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jws = es256Jws("payload", privateKey, { typ: "t", kid: "k" });
    const [h, p, s] = jws.split(".") as [string, string, string];
    const flipped = `${h}.${p}.${(s[0] === "A" ? "B" : "A") + s.slice(1)}`;
    expect(() => verifyEs256Jws(flipped, publicKey, "t")).toThrow(DeviceCryptoError);
    await expect(compactVerify(flipped, publicKey)).rejects.toThrow();
    expect(() => verifyEs256Jws(jws, publicKey, "other")).toThrow(/expected a other/);
    const hs = `${Buffer.from(JSON.stringify({ alg: "HS256", typ: "t" })).toString("base64url")}.${p}.${s}`;
    expect(() => verifyEs256Jws(hs, publicKey, "t")).toThrow(/only ES256/);
  });

  it("refuses to sign expired terms, as the SDK does", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
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
    expect(() => jweDecrypt(parts.join("."), device.privateKey, JOSE_TYPES.release)).toThrow(DeviceCryptoError);
  });

  it("refuses a JWE with another algorithm before touching the key", () => {
    const device = oneTimeKey();
    const header = Buffer.from(JSON.stringify({ alg: "dir", enc: "A256GCM", typ: JOSE_TYPES.release })).toString(
      "base64url",
    );
    expect(() => jweDecrypt(`${header}..AAAA.AAAA.AAAA`, device.privateKey, JOSE_TYPES.release)).toThrow(
      /algorithm not accepted/,
    );
  });

  it("derives RFC 7518 Appendix C's key with the Concat KDF", () => {
    const alice = createPrivateKey({
      format: "jwk",
      key: {
        kty: "EC",
        crv: "P-256",
        x: "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
        y: "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
        d: "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo",
      },
    });
    const bob = createPublicKey({
      format: "jwk",
      key: {
        kty: "EC",
        crv: "P-256",
        x: "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ",
        y: "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",
      },
    });
    const z = diffieHellman({ privateKey: alice, publicKey: bob });
    const key = concatKdf(z, "A128GCM", Buffer.from("Alice"), Buffer.from("Bob"), 128);
    expect(key.toString("base64url")).toBe("VqqN6vgjbSBcIijNcacQGg");
  });
});

describe("AES key wrap as jweEncrypt uses it", () => {
  it("gives RFC 3394 §4.6's answer (256-bit key data, 256-bit KEK)", () => {
    const kek = Buffer.from("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "hex");
    const wrapper = createCipheriv("id-aes256-wrap", kek, Buffer.from("A6A6A6A6A6A6A6A6", "hex"));
    const data = Buffer.from("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F", "hex");
    expect(
      Buffer.concat([wrapper.update(data), wrapper.final()])
        .toString("hex")
        .toUpperCase(),
    ).toBe("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21");
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
