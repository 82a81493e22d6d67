/**
 * The `dev` key provider: versioned master keys in a local file (dev-key-file.ts), the embedded default.
 * Anyone who copies the data folder gets the keys too, so it warns loudly at open (DESIGN.md "Key providers").
 *
 * Working keys: HKDF-SHA256 of a master key, info `mpay/v1|<purpose>|seal` or `mpay/v1|<purpose>|mac`, so each
 * purpose, and sealing vs MACing, has its own key and a blob or tag made for one use never passes as another.
 * They are derived once per (version, use, purpose) and cached.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { createKeyFile, looseModeNote, MASTER_KEY_BYTES, readKeyFile, wipe, writeKeyFile } from "./dev-key-file.ts";
import type { DevKeys } from "./dev-key-file.ts";
import { decodeCanonical, isKeyVersion } from "./encoding.ts";
import { KeyProviderError } from "./provider.ts";
import type { KeyProvider, KeyPurpose } from "./provider.ts";
import { formatSealed, NONCE_BYTES, parseSealed, TAG_BYTES } from "./sealed-format.ts";

export interface DevKeyProvider extends KeyProvider {
  readonly kind: "dev";
  /** Adds a master key version, makes it current and rewrites the key file; older versions still open. */
  rotate(): Promise<number>;
}

export interface DevKeyProviderOptions {
  keyFile: string;
  /** Where the start-up warning goes; without it, a Node process warning (stderr). */
  log?: (msg: string) => void;
}

type KeyUse = "seal" | "mac";

export async function openDevKeyProvider(options: DevKeyProviderOptions): Promise<DevKeyProvider> {
  const { keyFile } = options;
  const log = options.log ?? ((msg: string) => process.emitWarning(msg));
  const existing = await readKeyFile(keyFile);
  const keys = existing ?? (await createKeyFile(keyFile));
  const notes = [
    `WARNING: the dev key provider keeps its master key in a plain file next to the data (${keyFile}).`,
    "Anyone who copies the data folder can open every secret sealed with it and forge audit chain heads.",
    "It is for development only; production needs an HSM or custodian shares (pkcs11 or shamir).",
    existing ? null : "A new key file was created.",
    await looseModeNote(keyFile),
  ];
  log(notes.filter((note) => note !== null).join(" "));
  return new DevProvider(keyFile, keys);
}

class DevProvider implements DevKeyProvider {
  readonly kind = "dev" as const;
  readonly #keyFile: string;
  readonly #keys: DevKeys;
  readonly #derived = new Map<string, Buffer>();
  #closed = false;
  /** Rotations in this process run one after another, so two never pick the same new version number. */
  #rotating: Promise<unknown> = Promise.resolve();

  constructor(keyFile: string, keys: DevKeys) {
    this.#keyFile = keyFile;
    this.#keys = keys;
  }

  isSealed(): boolean {
    return false; // a key file is either readable at open or the open fails; there is nothing to unseal
  }

  currentKeyVersion(): number {
    this.#assertOpen();
    return this.#keys.current;
  }

  async seal(purpose: KeyPurpose, plaintext: Uint8Array, aad: string): Promise<string> {
    this.#assertOpen();
    const keyVersion = this.#keys.current;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key(keyVersion, "seal", purpose), nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aadBytes(purpose, aad));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return formatSealed({ keyVersion, nonce, ciphertext, tag: cipher.getAuthTag() });
  }

  async open(purpose: KeyPurpose, sealed: string, aad: string): Promise<Uint8Array> {
    this.#assertOpen();
    const parts = parseSealed(sealed);
    if (!parts) throw sealInvalid();
    const key = await this.#knownKey(parts.keyVersion, "seal", purpose);
    const decipher = createDecipheriv("aes-256-gcm", key, parts.nonce, { authTagLength: TAG_BYTES });
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

  async mac(purpose: KeyPurpose, data: Uint8Array): Promise<{ keyVersion: number; tag: string }> {
    this.#assertOpen();
    const keyVersion = this.#keys.current;
    const tag = createHmac("sha256", this.#key(keyVersion, "mac", purpose)).update(data).digest("base64url");
    return { keyVersion, tag };
  }

  async verifyMac(purpose: KeyPurpose, data: Uint8Array, tag: string, keyVersion: number): Promise<boolean> {
    this.#assertOpen();
    const key = await this.#knownKey(keyVersion, "mac", purpose);
    const given = decodeCanonical(tag, "base64url");
    const expected = createHmac("sha256", key).update(data).digest();
    // Length is public (always 32 for a real tag); only the comparison of equal lengths must be constant-time.
    return given !== null && given.length === expected.length && timingSafeEqual(given, expected);
  }

  rotate(): Promise<number> {
    const run = this.#rotating.then(() => this.#rotateNow());
    this.#rotating = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.#closed = true;
    wipe(this.#keys);
    for (const key of this.#derived.values()) key.fill(0);
    this.#derived.clear();
  }

  async #rotateNow(): Promise<number> {
    this.#assertOpen();
    await this.#reload(); // never reuse a version number that another process already wrote
    const version = Math.max(...this.#keys.keys.keys()) + 1;
    const key = randomBytes(MASTER_KEY_BYTES);
    const next = new Map(this.#keys.keys).set(version, key);
    try {
      await writeKeyFile(this.#keyFile, { current: version, keys: next });
    } catch (error) {
      key.fill(0);
      throw error;
    }
    if (this.#closed) key.fill(0); // closed while writing: the rotation is on disk, its key must not linger here
    else {
      this.#keys.keys.set(version, key);
      this.#keys.current = version;
    }
    return version;
  }

  /** The working key for a version named by a blob or a tag, re-reading the file once for an unknown version. */
  async #knownKey(version: number, use: KeyUse, purpose: KeyPurpose): Promise<Buffer> {
    if (!isKeyVersion(version)) throw versionUnknown(version);
    // Another process (`mpay vault rotate`, a second server) may have rotated since we read the file.
    if (!this.#keys.keys.has(version)) await this.#reload();
    return this.#key(version, use, purpose);
  }

  #key(version: number, use: KeyUse, purpose: KeyPurpose): Buffer {
    const id = `${version}|${use}|${purpose}`;
    const cached = this.#derived.get(id);
    if (cached) return cached;
    const master = this.#keys.keys.get(version);
    if (!master) throw versionUnknown(version);
    const key = Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), `mpay/v1|${purpose}|${use}`, 32));
    this.#derived.set(id, key);
    return key;
  }

  /** Adds versions found in the file; a version whose bytes changed means the file was replaced under us. */
  async #reload(): Promise<void> {
    const fresh = await readKeyFile(this.#keyFile);
    if (!fresh || this.#closed) return;
    try {
      for (const [version, key] of fresh.keys) {
        const known = this.#keys.keys.get(version);
        if (!known) {
          this.#keys.keys.set(version, key);
          fresh.keys.delete(version); // adopted: the wipe below must not zero it
        } else if (!known.equals(key)) {
          throw new KeyProviderError("provider_misconfigured", `dev key file ${this.#keyFile} changed key version ${version} while in use`);
        }
      }
      this.#keys.current = Math.max(this.#keys.current, fresh.current);
    } finally {
      wipe(fresh); // duplicates of keys we already hold
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new KeyProviderError("vault_sealed", "the dev key provider is closed");
  }
}

/** The purpose is bound twice (key and AAD); purposes contain no "|", so the prefix cannot be forged by an aad. */
function aadBytes(purpose: KeyPurpose, aad: string): Buffer {
  return Buffer.from(`${purpose}|${aad}`, "utf8");
}

function sealInvalid(): KeyProviderError {
  return new KeyProviderError("seal_invalid", "sealed value is malformed, was altered, or belongs to another purpose or row");
}

function versionUnknown(version: number): KeyProviderError {
  return new KeyProviderError("key_version_unknown", `no key with version ${String(version)} in the dev key file`);
}
