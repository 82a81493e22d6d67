/**
 * Seal, open and MAC in this process's memory, over versioned 256-bit master keys: the crypto of the `dev`
 * provider (master keys from a file) and of the `shamir` provider (master keys unsealed from the keyring table).
 * The pkcs11 provider does the same operations inside the HSM instead.
 *
 * Working keys: HKDF-SHA256 of a master key, info `mpay/v1|<purpose>|seal` or `mpay/v1|<purpose>|mac`, so each
 * purpose, and sealing vs MACing, has its own key and a blob or tag made for one use never passes as another.
 * They are derived once per (version, use, purpose) and cached. Key bytes live in Buffers so wipe() can zero them.
 * The audit head signing key is derived from the first version (audit-key.ts explains why).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { AUDIT_KEY_INFO, AUDIT_KEY_SEED_BYTES, SoftwareAuditKey } from "./audit-key.ts";
import { decodeCanonical, isKeyVersion } from "./encoding.ts";
import { KeyProviderError } from "./provider.ts";
import type { KeyPurpose } from "./provider.ts";
import { formatSealed, NONCE_BYTES, parseSealed, TAG_BYTES } from "./sealed-format.ts";

type KeyUse = "seal" | "mac";

export class SoftwareKeyring {
  readonly #masters: Map<number, Buffer>;
  readonly #derived = new Map<string, Buffer>();
  #auditKey: SoftwareAuditKey | null = null;

  /** Takes ownership of the buffers: wipe() zeroes them. */
  constructor(masters: Map<number, Buffer> = new Map()) {
    this.#masters = masters;
  }

  has(version: number): boolean {
    return this.#masters.has(version);
  }

  /** The master key of a version, for the dev provider's check that its file was not replaced under it. */
  master(version: number): Buffer | undefined {
    return this.#masters.get(version);
  }

  versions(): number[] {
    return [...this.#masters.keys()].sort((a, b) => a - b);
  }

  /** Adds a version; the keyring owns `key` from now on. */
  add(version: number, key: Buffer): void {
    if (this.#masters.has(version)) throw new Error(`key version ${version} is already in the keyring`);
    this.#masters.set(version, key);
  }

  seal(version: number, purpose: KeyPurpose, plaintext: Uint8Array, aad: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key(version, "seal", purpose), nonce, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(aadBytes(purpose, aad));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return formatSealed({ keyVersion: version, nonce, ciphertext, tag: cipher.getAuthTag() });
  }

  /** The blob's version must be in the keyring (callers reload first); else key_version_unknown. */
  open(purpose: KeyPurpose, sealed: string, aad: string): Uint8Array {
    const parts = parseSealed(sealed);
    if (!parts) throw sealInvalid();
    const decipher = createDecipheriv("aes-256-gcm", this.#key(parts.keyVersion, "seal", purpose), parts.nonce, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aadBytes(purpose, aad));
    decipher.setAuthTag(parts.tag);
    const plaintext = decipher.update(parts.ciphertext);
    try {
      decipher.final(); // checks the tag; GCM is a stream mode, so final() adds no bytes
    } catch {
      plaintext.fill(0); // unauthenticated bytes never leave
      throw sealInvalid();
    }
    return plaintext;
  }

  mac(version: number, purpose: KeyPurpose, data: Uint8Array): string {
    return createHmac("sha256", this.#key(version, "mac", purpose))
      .update(data)
      .digest("base64url");
  }

  verifyMac(version: number, purpose: KeyPurpose, data: Uint8Array, tag: string): boolean {
    const key = this.#key(version, "mac", purpose);
    const given = decodeCanonical(tag, "base64url");
    const expected = createHmac("sha256", key).update(data).digest();
    // Length is public (always 32 for a real tag); only the comparison of equal lengths must be constant-time.
    return given !== null && given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The audit head signing key, derived from the lowest version's master key on first use. */
  auditKey(): SoftwareAuditKey {
    if (this.#auditKey) return this.#auditKey;
    const first = this.versions()[0];
    const master = first === undefined ? undefined : this.#masters.get(first);
    if (!master)
      throw new KeyProviderError(
        "key_version_unknown",
        "the keyring holds no key version to derive the audit key from",
      );
    const seed = Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), AUDIT_KEY_INFO, AUDIT_KEY_SEED_BYTES));
    try {
      this.#auditKey = SoftwareAuditKey.fromSeed(seed);
    } finally {
      seed.fill(0);
    }
    return this.#auditKey;
  }

  wipe(): void {
    this.#auditKey = null;
    for (const key of this.#masters.values()) key.fill(0);
    for (const key of this.#derived.values()) key.fill(0);
    this.#masters.clear();
    this.#derived.clear();
  }

  #key(version: number, use: KeyUse, purpose: KeyPurpose): Buffer {
    const id = `${version}|${use}|${purpose}`;
    const cached = this.#derived.get(id);
    if (cached) return cached;
    const master = isKeyVersion(version) ? this.#masters.get(version) : undefined;
    if (!master) throw new KeyProviderError("key_version_unknown", `no key with version ${String(version)}`);
    const key = Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), `mpay/v1|${purpose}|${use}`, 32));
    this.#derived.set(id, key);
    return key;
  }
}

/** The purpose is bound twice (key and AAD); purposes contain no "|", so the prefix cannot be forged by an aad. */
export function aadBytes(purpose: KeyPurpose, aad: string): Buffer {
  return Buffer.from(`${purpose}|${aad}`, "utf8");
}

export function sealInvalid(): KeyProviderError {
  return new KeyProviderError(
    "seal_invalid",
    "sealed value is malformed, was altered, or belongs to another purpose or row",
  );
}

/** The key version a blob names, or null when it is not a well-formed blob. */
export function sealedVersion(sealed: string): number | null {
  return parseSealed(sealed)?.keyVersion ?? null;
}
