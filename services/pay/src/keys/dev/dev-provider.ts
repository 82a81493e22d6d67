/**
 * The `dev` key provider: versioned master keys in a local file (dev-key-file.ts), the embedded default.
 * Anyone who copies the data folder gets the keys too, so it warns loudly at open (DESIGN.md "Key providers"),
 * and merchants.assertProviderFitsKeys refuses it once any merchant has a live key.
 *
 * The crypto is software-keyring.ts's. With a database, the current version is the one recorded in
 * `key_versions` (key-versions.ts), so a rotation made by `mpay vault rotate` reaches every server process.
 */
import type { Db } from "../../db/client.ts";
import { createKeyFile, looseModeNote, MASTER_KEY_BYTES, readKeyFile, wipe, writeKeyFile } from "./dev-key-file.ts";
import { randomBytes } from "node:crypto";
import { isKeyVersion } from "../encoding.ts";
import { SharedKeyVersion } from "../key-versions.ts";
import { KeyProviderError } from "../provider.ts";
import type { AuditPublicKey, KeyProvider, KeyProviderStatus, KeyPurpose } from "../provider.ts";
import { sealedVersion, SoftwareKeyring } from "../software-keyring.ts";

export interface DevKeyProvider extends KeyProvider {
  readonly kind: "dev";
}

export interface DevKeyProviderOptions {
  keyFile: string;
  /** Where the current key version is shared with other processes; without it, the file alone decides. */
  db?: Db;
  /** Where the start-up warning goes; without it, a Node process warning (stderr). */
  log?: (msg: string) => void;
}

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
  const provider = new DevProvider(keyFile, keys.current, new SoftwareKeyring(keys.keys));
  if (options.db) await provider.share(options.db);
  return provider;
}

class DevProvider implements DevKeyProvider {
  readonly kind = "dev" as const;
  readonly #keyFile: string;
  readonly #keyring: SoftwareKeyring;
  /** The file's own idea of the current version; the database's, when there is one, wins. */
  #fileCurrent: number;
  #shared: SharedKeyVersion | null = null;
  #closed = false;
  /** Rotations in this process run one after another, so two never pick the same new version number. */
  #rotating: Promise<unknown> = Promise.resolve();

  constructor(keyFile: string, current: number, keyring: SoftwareKeyring) {
    this.#keyFile = keyFile;
    this.#fileCurrent = current;
    this.#keyring = keyring;
  }

  async share(db: Db): Promise<void> {
    this.#shared = await SharedKeyVersion.open(db, "dev", async (version) => {
      if (!this.#keyring.has(version)) await this.#reload();
    });
  }

  isSealed(): boolean {
    return this.#closed; // a key file is either readable at open or the open fails; there is nothing to unseal
  }

  currentKeyVersion(): number {
    this.#assertOpen();
    return this.#shared?.get() ?? this.#fileCurrent;
  }

  async seal(purpose: KeyPurpose, plaintext: Uint8Array, aad: string): Promise<string> {
    const version = this.currentKeyVersion();
    await this.#ensure(version);
    return this.#keyring.seal(version, purpose, plaintext, aad);
  }

  async open(purpose: KeyPurpose, sealed: string, aad: string): Promise<Uint8Array> {
    this.#assertOpen();
    const version = sealedVersion(sealed);
    if (version !== null) await this.#ensure(version);
    return this.#keyring.open(purpose, sealed, aad);
  }

  async mac(purpose: KeyPurpose, data: Uint8Array): Promise<{ keyVersion: number; tag: string }> {
    const keyVersion = this.currentKeyVersion();
    await this.#ensure(keyVersion);
    return { keyVersion, tag: this.#keyring.mac(keyVersion, purpose, data) };
  }

  async verifyMac(purpose: KeyPurpose, data: Uint8Array, tag: string, keyVersion: number): Promise<boolean> {
    this.#assertOpen();
    await this.#ensure(keyVersion);
    return this.#keyring.verifyMac(keyVersion, purpose, data, tag);
  }

  async signAuditHead(signingInput: Uint8Array): Promise<Uint8Array> {
    this.#assertOpen();
    return this.#keyring.auditKey().sign(signingInput);
  }

  async auditPublicKey(): Promise<AuditPublicKey> {
    this.#assertOpen();
    return this.#keyring.auditKey().publicKey();
  }

  rotate(): Promise<number> {
    const run = this.#rotating.then(() =>
      this.#shared ? this.#shared.advance((_tx, recorded) => this.#rotateFile(recorded)) : this.#rotateFile(null),
    );
    this.#rotating = run.catch(() => undefined);
    return run;
  }

  async status(): Promise<KeyProviderStatus> {
    return {
      kind: "dev",
      initialized: true,
      sealed: this.isSealed(),
      currentKeyVersion: this.#closed ? null : this.currentKeyVersion(),
      keyVersions: this.#keyring.versions(),
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#shared?.close();
    this.#keyring.wipe();
  }

  /**
   * Writes a new master key into the file as its current version. The version is above every one in the file and
   * above the database's record, so a version number is never reused, whichever process rotated before.
   */
  async #rotateFile(recorded: number | null): Promise<number> {
    this.#assertOpen();
    await this.#reload();
    const version = Math.max(recorded ?? 0, ...this.#keyring.versions()) + 1;
    const key = randomBytes(MASTER_KEY_BYTES);
    const next = new Map<number, Buffer>();
    for (const v of this.#keyring.versions()) next.set(v, this.#keyring.master(v)!);
    next.set(version, key);
    try {
      await writeKeyFile(this.#keyFile, { current: version, keys: next });
    } catch (error) {
      key.fill(0);
      throw error;
    }
    if (this.#closed)
      key.fill(0); // closed while writing: the rotation is on disk, its key must not linger here
    else {
      this.#keyring.add(version, key);
      this.#fileCurrent = version;
    }
    return version;
  }

  /** Makes sure a version's key is loaded, re-reading the file once: another process may have rotated. */
  async #ensure(version: number): Promise<void> {
    this.#assertOpen();
    if (!isKeyVersion(version)) throw versionUnknown(version);
    if (!this.#keyring.has(version)) await this.#reload();
    if (!this.#keyring.has(version)) throw versionUnknown(version);
  }

  /** Adds versions found in the file; a version whose bytes changed means the file was replaced under us. */
  async #reload(): Promise<void> {
    const fresh = await readKeyFile(this.#keyFile);
    if (!fresh || this.#closed) return;
    try {
      for (const [version, key] of fresh.keys) {
        const known = this.#keyring.master(version);
        if (!known) {
          this.#keyring.add(version, key);
          fresh.keys.delete(version); // adopted: the wipe below must not zero it
        } else if (!known.equals(key)) {
          throw new KeyProviderError(
            "provider_misconfigured",
            `dev key file ${this.#keyFile} changed key version ${version} while in use`,
          );
        }
      }
      this.#fileCurrent = Math.max(this.#fileCurrent, fresh.current);
    } finally {
      wipe(fresh); // duplicates of keys we already hold
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new KeyProviderError("vault_sealed", "the dev key provider is closed");
  }
}

function versionUnknown(version: number): KeyProviderError {
  return new KeyProviderError("key_version_unknown", `no key with version ${String(version)} in the dev key file`);
}
