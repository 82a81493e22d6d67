/**
 * The synthetic devices' cryptography on node:crypto (issue 11: "the synthetic devices use the cheapest correct
 * code"), so that the phones simulated on the same two cores as the servers take as little of them as possible.
 * The wire format is the wallet SDK's to the byte where it matters (packages/wallet/src/card-crypto.ts,
 * device-key.ts, pin.ts; packages/crypto's jose policy): the pay server and the issuer verify and decrypt what
 * this makes with jose, unchanged, and bench/device-crypto.test.ts checks it against jose both ways.
 *
 * - ES256 JWS: `crypto.sign` with `dsaEncoding: "ieee-p1363"` (JOSE's r‖s), the private key a KeyObject parsed once;
 * - JWE ECDH-ES+A256KW / A256GCM (RFC 7518 §4.6, §4.4, §5.3): `diffieHellman` on P-256, the Concat KDF (one
 *   SHA-256 round for a 256-bit key), AES key wrap (`id-aes256-wrap`) and AES-256-GCM, all synchronous: a JWE is
 *   a few library calls instead of jose's ten WebCrypto promises; recipients' public keys cached as KeyObjects;
 * - the one-time release key: a fresh P-256 pair (`freshP256`, from ECDH's raw key), its public half as a JWK;
 * - the PIN challenge MAC (HMAC-SHA256) and the sealed card record (HKDF-SHA256 + AES-256-GCM);
 * - the issuer certificate: the root's ES256 signature verified with a cached KeyObject, then the same claims
 *   checks as `verifyIssuerCertificate` (schema, validity window, BIN).
 *
 * The checks a device makes are kept (terms schema and time window before signing, JWE header allow-list and typ,
 * the certificate's root, window and BIN): cheaper, not laxer. This is benchmark code, never product code: the
 * wallet SDK stays on WebCrypto and jose.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  randomBytes,
  sign,
  verify,
  type JsonWebKey,
  type KeyObject,
} from "node:crypto";
import {
  approvalTermsSchema,
  binInRanges,
  canonicalTerms,
  issuerCertificateSchema,
  JOSE_TYPES,
  pinApprovalMessage,
  termsTimeProblem,
  type ApprovalTerms,
  type IssuerCertificate,
} from "@mpay/protocol";
import type { NetworkRoot, RecordBinding } from "@mpay/crypto";
import { freshP256 } from "@mpay/crypto/fresh-key-pair";

const JWE_ALG = "ECDH-ES+A256KW";
const JWE_ENC = "A256GCM";
/** RFC 3394's default initial value, which `id-aes256-wrap` takes as its IV. */
const KEY_WRAP_IV = Buffer.from("A6A6A6A6A6A6A6A6", "hex");

export class DeviceCryptoError extends Error {
  constructor(
    readonly code: "jose_invalid" | "jose_algorithm_refused" | "jose_type_mismatch" | "certificate_invalid",
    message: string,
  ) {
    super(message);
    this.name = "DeviceCryptoError";
  }
}

const b64u = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64url");
const fromB64u = (text: string) => Buffer.from(text, "base64url");

export interface PublicEcJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
}

/** The public members of a P-256 key as a JWK (the form the servers take). */
export function publicJwkOf(key: KeyObject): PublicEcJwk {
  const { kty, crv, x, y } = key.export({ format: "jwk" }) as JsonWebKey;
  if (kty !== "EC" || crv !== "P-256" || typeof x !== "string" || typeof y !== "string")
    throw new DeviceCryptoError("jose_invalid", "not a P-256 key");
  return { kty, crv, x, y };
}

/** A compact ES256 JWS over `payload` with the header `{alg, kid, typ}` (as jose writes it for the SDK). */
export function es256Jws(payload: Uint8Array | string, privateKey: KeyObject, header: { typ: string; kid: string }) {
  const signingInput = `${b64u(JSON.stringify({ alg: "ES256", kid: header.kid, typ: header.typ }))}.${b64u(payload)}`;
  const signature = sign("sha256", Buffer.from(signingInput), { key: privateKey, dsaEncoding: "ieee-p1363" });
  return `${signingInput}.${b64u(signature)}`;
}

/** Verifies a compact ES256 JWS of `typ` with a public KeyObject; returns the payload bytes. */
export function verifyEs256Jws(jws: string, publicKey: KeyObject, typ: string): { payload: Buffer; kid: unknown } {
  const parts = jws.split(".");
  if (parts.length !== 3) throw new DeviceCryptoError("jose_invalid", "not a compact JWS");
  const [h, p, s] = parts as [string, string, string];
  const header = parseHeader(h);
  if (header["alg"] !== "ES256") throw new DeviceCryptoError("jose_algorithm_refused", "only ES256 is accepted");
  if (header["typ"] !== typ) throw new DeviceCryptoError("jose_type_mismatch", `expected a ${typ}`);
  if (header["crit"] !== undefined) throw new DeviceCryptoError("jose_invalid", "crit is not accepted");
  const ok = verify("sha256", Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: "ieee-p1363" }, fromB64u(s));
  if (!ok) throw new DeviceCryptoError("jose_invalid", "the signature does not verify");
  return { payload: fromB64u(p), kid: header["kid"] };
}

function parseHeader(part: string): Record<string, unknown> {
  try {
    const header = JSON.parse(fromB64u(part).toString("utf8")) as unknown;
    if (typeof header !== "object" || header === null || Array.isArray(header)) throw new Error("not an object");
    return header as Record<string, unknown>;
  } catch {
    throw new DeviceCryptoError("jose_invalid", "the protected header is not JSON");
  }
}

/** The approval JWS of `terms` (device-key.ts `signTerms`): checked against the schema and its window first. */
export function signTermsFast(privateKey: KeyObject, kid: string, terms: ApprovalTerms, nowSeconds?: number): string {
  if (!/^[A-Za-z0-9_-]{43}$/.test(kid)) throw new TypeError("kid is the device key's RFC 7638 thumbprint");
  const parsed = approvalTermsSchema.parse(terms);
  const problem = termsTimeProblem(parsed, nowSeconds ?? Math.floor(Date.now() / 1000));
  if (problem !== null) throw new DeviceCryptoError("jose_invalid", `the terms cannot be signed: ${problem}`);
  return es256Jws(canonicalTerms(parsed), privateKey, { typ: "mpay-approval+jws", kid });
}

/** pin.ts `pinChallengeMac`: HMAC-SHA256 under the OPAQUE session key over the challenge and the terms' hash. */
export function pinChallengeMacFast(sessionKey: Uint8Array, challengeId: string, terms: ApprovalTerms): string {
  if (sessionKey.length < 32) throw new TypeError("the session key is the OPAQUE session key's bytes");
  const termsHash = createHash("sha256").update(canonicalTerms(terms)).digest("base64url");
  return createHmac("sha256", sessionKey).update(pinApprovalMessage(challengeId, termsHash)).digest("base64url");
}

/**
 * A fresh P-256 key pair from ECDH's raw key, the product's own helper: not generateKeyPairSync + JWK export, which
 * deadlocks Node 20 now and then (seen with gdb in the load generator and the bulk seeding; fresh-key-pair.ts).
 */
export { freshP256 };

/** A one-time P-256 key pair for the card's release: the private half stays a KeyObject, the public one a JWK. */
export function oneTimeKey(): { privateKey: KeyObject; publicJwk: PublicEcJwk } {
  return freshP256();
}

const lengthPrefixed = (bytes: Uint8Array) => {
  const out = Buffer.alloc(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  out.set(bytes, 4);
  return out;
};

/**
 * RFC 7518 §4.6.2: the Concat KDF with SHA-256, for a key of at most 256 bits (one round); AlgorithmID is the
 * `alg` when the result wraps a key (ECDH-ES+A256KW), the `enc` for direct key agreement (RFC 7518 Appendix C).
 */
export function concatKdf(z: Uint8Array, alg: string, apu: Uint8Array, apv: Uint8Array, keyBits = 256): Buffer {
  if (keyBits > 256 || keyBits % 8 !== 0) throw new RangeError("one SHA-256 round: at most 256 bits, whole bytes");
  const suppPubInfo = Buffer.alloc(4);
  suppPubInfo.writeUInt32BE(keyBits, 0);
  const digest = createHash("sha256")
    .update(Buffer.from([0, 0, 0, 1]))
    .update(z)
    .update(lengthPrefixed(Buffer.from(alg, "ascii")))
    .update(lengthPrefixed(apu))
    .update(lengthPrefixed(apv))
    .update(suppPubInfo)
    .digest();
  return keyBits === 256 ? digest : digest.subarray(0, keyBits / 8);
}

/** A JWE (ECDH-ES+A256KW, A256GCM) of `plaintext` to a P-256 public KeyObject, as jose-policy.ts `encryptTo`. */
export function jweEncrypt(
  plaintext: Uint8Array,
  recipient: KeyObject,
  options: { typ: string; kid?: string },
): string {
  const ephemeral = freshP256();
  const z = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient });
  const kek = concatKdf(z, JWE_ALG, new Uint8Array(0), new Uint8Array(0));
  z.fill(0);
  const cek = randomBytes(32);
  const wrapper = createCipheriv("id-aes256-wrap", kek, KEY_WRAP_IV);
  const encryptedKey = Buffer.concat([wrapper.update(cek), wrapper.final()]);
  kek.fill(0);
  const { crv, kty, x, y } = ephemeral.publicJwk;
  const header = b64u(
    JSON.stringify({
      alg: JWE_ALG,
      enc: JWE_ENC,
      typ: options.typ,
      ...(options.kid !== undefined ? { kid: options.kid } : {}),
      epk: { x, crv, kty, y },
    }),
  );
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", cek, iv);
  cipher.setAAD(Buffer.from(header, "ascii"));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  cek.fill(0);
  return `${header}.${b64u(encryptedKey)}.${b64u(iv)}.${b64u(ciphertext)}.${b64u(tag)}`;
}

/**
 * Opens a JWE made by `encryptTo` (or `jweEncrypt`) with a P-256 private KeyObject, with jose-policy.ts's checks:
 * alg/enc allow-list, the expected `typ`, no `crit` or `zip`. The caller wipes the plaintext.
 */
export function jweDecrypt(jwe: string, privateKey: KeyObject, typ: string): Buffer {
  const parts = jwe.split(".");
  if (parts.length !== 5) throw new DeviceCryptoError("jose_invalid", "not a compact JWE");
  const [h, k, i, c, t] = parts as [string, string, string, string, string];
  const header = parseHeader(h);
  if (header["alg"] !== JWE_ALG || header["enc"] !== JWE_ENC)
    throw new DeviceCryptoError("jose_algorithm_refused", "JWE algorithm not accepted");
  if (header["typ"] !== typ) throw new DeviceCryptoError("jose_type_mismatch", `expected a ${typ}`);
  if (header["crit"] !== undefined || header["zip"] !== undefined)
    throw new DeviceCryptoError("jose_invalid", "crit and zip are not accepted");
  try {
    const epk = header["epk"] as JsonWebKey;
    if (epk?.kty !== "EC" || epk.crv !== "P-256") throw new Error("epk");
    const publicKey = createPublicKey({ key: { kty: epk.kty, crv: epk.crv, x: epk.x, y: epk.y }, format: "jwk" });
    const z = diffieHellman({ privateKey, publicKey });
    const apu = typeof header["apu"] === "string" ? fromB64u(header["apu"]) : new Uint8Array(0);
    const apv = typeof header["apv"] === "string" ? fromB64u(header["apv"]) : new Uint8Array(0);
    const kek = concatKdf(z, JWE_ALG, apu, apv);
    z.fill(0);
    const unwrapper = createDecipheriv("id-aes256-wrap", kek, KEY_WRAP_IV);
    const cek = Buffer.concat([unwrapper.update(fromB64u(k)), unwrapper.final()]);
    kek.fill(0);
    const decipher = createDecipheriv("aes-256-gcm", cek, fromB64u(i));
    decipher.setAAD(Buffer.from(h, "ascii"));
    decipher.setAuthTag(fromB64u(t));
    const plaintext = Buffer.concat([decipher.update(fromB64u(c)), decipher.final()]);
    cek.fill(0);
    return plaintext;
  } catch {
    throw new DeviceCryptoError("jose_invalid", "the JWE could not be decrypted");
  }
}

/** records.ts `openRecord`: HKDF-SHA256 of the DEK for the purpose and card, AES-256-GCM with the binding as AAD. */
export function openRecordFast(dek: Uint8Array, b: RecordBinding, sealed: string): Buffer {
  const parts = sealed.split(".");
  if (parts.length !== 4 || parts[0] !== "r1" || parts[1] !== String(b.version))
    throw new DeviceCryptoError("jose_invalid", "not a sealed record of this version");
  const key = Buffer.from(hkdfSync("sha256", dek, new Uint8Array(0), `mpay/v1|${b.purpose}|${b.cardId}`, 32));
  try {
    const sealedBytes = fromB64u(parts[3] as string);
    const decipher = createDecipheriv("aes-256-gcm", key, fromB64u(parts[2] as string));
    decipher.setAAD(Buffer.from(`mpay/v1|${b.purpose}|${b.cardId}|${b.payerId}|${b.deviceId}|${b.version}`));
    decipher.setAuthTag(sealedBytes.subarray(sealedBytes.length - 16));
    return Buffer.concat([decipher.update(sealedBytes.subarray(0, sealedBytes.length - 16)), decipher.final()]);
  } catch {
    throw new DeviceCryptoError("jose_invalid", "the record does not open with this key");
  } finally {
    key.fill(0);
  }
}

/**
 * issuer-certificate.ts `verifyIssuerCertificate` with the roots' keys parsed once: the root (by `kid` among the
 * device's roots), ES256 and the certificate `typ`, the schema, the validity window and, with `pan`, the BIN.
 */
export class CertificateVerifier {
  private readonly roots = new Map<string, KeyObject>();
  private readonly recipients = new Map<string, KeyObject>();

  constructor(roots: readonly NetworkRoot[]) {
    for (const root of roots) {
      const { kty, crv, x, y } = root.jwk;
      this.roots.set(root.kid, createPublicKey({ key: { kty, crv, x, y }, format: "jwk" }));
    }
  }

  verify(jws: string, nowSeconds: number, pan?: string): IssuerCertificate {
    const kid = parseHeader(jws.split(".")[0] ?? "")["kid"];
    const root = typeof kid === "string" ? this.roots.get(kid) : undefined;
    if (!root) throw new DeviceCryptoError("certificate_invalid", "not signed by a root this device trusts");
    const { payload } = verifyEs256Jws(jws, root, JOSE_TYPES.issuerCertificate);
    const parsed = issuerCertificateSchema.parse(JSON.parse(payload.toString("utf8")));
    if (parsed.nbf > nowSeconds || parsed.exp <= nowSeconds)
      throw new DeviceCryptoError("certificate_invalid", `the certificate of ${parsed.issuerId} is not valid now`);
    if (pan !== undefined && !binInRanges(pan, parsed.binRanges))
      throw new DeviceCryptoError(
        "certificate_invalid",
        `the certificate of ${parsed.issuerId} does not cover the BIN`,
      );
    return parsed;
  }

  /** The certified encryption key as a KeyObject, parsed once per certificate key. */
  recipientKey(certificate: IssuerCertificate): KeyObject {
    const id = `${certificate.kid}|${certificate.jwk.x}|${certificate.jwk.y}`;
    let key = this.recipients.get(id);
    if (!key) {
      const { kty, crv, x, y } = certificate.jwk;
      key = createPublicKey({ key: { kty, crv, x, y }, format: "jwk" });
      this.recipients.set(id, key);
    }
    return key;
  }
}
