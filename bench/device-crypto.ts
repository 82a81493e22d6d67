/**
 * The synthetic devices' cryptography on node:crypto (issue 11: "the synthetic devices use the cheapest correct
 * code"), so that the phones simulated on the same two cores as the servers take as little of them as possible.
 * The wire format is the wallet SDK's to the byte where it matters (packages/wallet/src/card-crypto.ts,
 * device-key.ts, pin.ts; packages/crypto's jose policy): the pay server and the issuer read what this makes as
 * they read the wallet's, and bench/device-crypto.test.ts checks it against jose.
 *
 * - ES256 JWS and JWE ECDH-ES+A256KW / A256GCM: @mpay/crypto/node (compact-jose.ts, the servers' own, tested
 *   against the RFCs' vectors and jose both ways there), with keys parsed once as KeyObjects;
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
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  hkdfSync,
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
import {
  compactHeader,
  decryptCompact,
  encryptCompact,
  p256PublicKey,
  signCompact,
  verifyCompact,
  type NetworkRoot,
  type RecordBinding,
} from "@mpay/crypto/node";
import { freshP256 } from "@mpay/crypto/fresh-key-pair";

export class DeviceCryptoError extends Error {
  constructor(
    readonly code: "jose_invalid" | "certificate_invalid",
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

/**
 * A compact ES256 JWS over `payload` with the header `{alg, kid, typ}`, as the wallet SDK writes it
 * (device-key.ts); @mpay/crypto/node signs it.
 */
export function es256Jws(payload: Uint8Array | string, privateKey: KeyObject, header: { typ: string; kid: string }) {
  return signCompact(payload, privateKey, { kid: header.kid, typ: header.typ });
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

/** A JWE (ECDH-ES+A256KW, A256GCM) of `plaintext` to a P-256 public KeyObject, as jose-policy.ts `encryptTo`. */
export function jweEncrypt(plaintext: Uint8Array, recipient: KeyObject, options: { typ: string; kid?: string }) {
  return encryptCompact(plaintext, recipient, options);
}

/** Opens a JWE made by `encryptTo` (or `jweEncrypt`) with the policy's checks. The caller wipes the plaintext. */
export function jweDecrypt(jwe: string, privateKey: KeyObject, typ: string): Buffer {
  return decryptCompact(jwe, privateKey, typ).plaintext;
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
      this.roots.set(root.kid, p256PublicKey({ kty, crv, x, y }));
    }
  }

  verify(jws: string, nowSeconds: number, pan?: string): IssuerCertificate {
    const kid = compactHeader(jws)["kid"];
    const root = typeof kid === "string" ? this.roots.get(kid) : undefined;
    if (!root) throw new DeviceCryptoError("certificate_invalid", "not signed by a root this device trusts");
    const { payload } = verifyCompact(jws, root, JOSE_TYPES.issuerCertificate);
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
      key = p256PublicKey({ kty, crv, x, y });
      this.recipients.set(id, key);
    }
    return key;
  }
}
