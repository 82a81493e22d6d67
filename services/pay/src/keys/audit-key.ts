/**
 * The key that signs audit chain heads (DESIGN.md "Key providers": "the key that signs audit chain heads"), for
 * the software providers, and the public JWK every provider publishes for it.
 *
 * dev derives an ECDSA P-256 key with HKDF-SHA256 from its FIRST key version's master key (info
 * `mpay/v1|audit-head|sign`), so it is kept exactly as its other keys are, in the dev key file; the first version,
 * because dev never deletes versions and a rotation must not change the key (a Certificate Transparency log keeps
 * one key for its life). shamir keeps a random seed as a provider secret instead (sealed under the custodians'
 * master key, re-sealed with every other row): a rekey deletes the old versions, and the key must survive it.
 * The scalar is made as FIPS 186-5 A.2.1 says: 320 bits from the KDF, reduced mod n−1, plus one (never zero, and
 * biased by at most 2^-64).
 *
 * The private key is a node:crypto KeyObject, which cannot be zeroed: like the derived working keys of the keyring,
 * it lives as long as the process holds the keyring. That is one reason production uses pkcs11 (signing in the HSM).
 */
import { createECDH, createPrivateKey, sign, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint } from "jose";
import type { AuditPublicKey } from "./provider.ts";

/** The order of the P-256 group. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/** HKDF output length for the scalar: the curve's 256 bits plus 64 (FIPS 186-5 A.2.1). */
export const AUDIT_KEY_SEED_BYTES = 40;
export const AUDIT_KEY_INFO = "mpay/v1|audit-head|sign";

export class SoftwareAuditKey {
  readonly #privateKey: KeyObject;
  readonly #publicKey: Promise<AuditPublicKey>;

  private constructor(privateKey: KeyObject, x: Buffer, y: Buffer) {
    this.#privateKey = privateKey;
    this.#publicKey = auditPublicKeyOf(x, y);
  }

  /** The key for `seed` (AUDIT_KEY_SEED_BYTES from a KDF); the caller zeroes the seed afterwards. */
  static fromSeed(seed: Uint8Array): SoftwareAuditKey {
    if (seed.length !== AUDIT_KEY_SEED_BYTES) throw new Error(`an audit key seed has ${AUDIT_KEY_SEED_BYTES} bytes`);
    const scalar = (BigInt(`0x${Buffer.from(seed).toString("hex")}`) % (P256_ORDER - 1n)) + 1n;
    const d = Buffer.from(scalar.toString(16).padStart(64, "0"), "hex");
    try {
      // ECDH computes the public point of a scalar; the same scalar is the ECDSA private key.
      const ecdh = createECDH("prime256v1");
      ecdh.setPrivateKey(d);
      const point = ecdh.getPublicKey(); // 0x04 ‖ x ‖ y
      const x = point.subarray(1, 33);
      const y = point.subarray(33, 65);
      const privateKey = createPrivateKey({
        key: {
          kty: "EC",
          crv: "P-256",
          x: x.toString("base64url"),
          y: y.toString("base64url"),
          d: d.toString("base64url"),
        },
        format: "jwk",
      });
      return new SoftwareAuditKey(privateKey, x, y);
    } finally {
      d.fill(0);
    }
  }

  /** ES256: ECDSA over SHA-256 of `signingInput`, as raw r‖s. */
  sign(signingInput: Uint8Array): Uint8Array {
    return new Uint8Array(sign("sha256", signingInput, { key: this.#privateKey, dsaEncoding: "ieee-p1363" }));
  }

  publicKey(): Promise<AuditPublicKey> {
    return this.#publicKey;
  }
}

/** The published form of a P-256 public key given by its coordinates (32 bytes each). */
export async function auditPublicKeyOf(x: Uint8Array, y: Uint8Array): Promise<AuditPublicKey> {
  const jwk = {
    kty: "EC" as const,
    crv: "P-256" as const,
    x: Buffer.from(x).toString("base64url"),
    y: Buffer.from(y).toString("base64url"),
  };
  return { ...jwk, kid: await calculateJwkThumbprint(jwk, "sha256"), alg: "ES256", use: "sig" };
}
