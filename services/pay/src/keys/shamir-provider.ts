/**
 * The `shamir` key provider (DESIGN.md "Key providers": split knowledge, dual control). `mpay vault init` makes
 * a random master key, splits it M-of-N among custodians and stores only M, N and a check value
 * (shamir-shares.ts). Every process starts SEALED: it refuses every seal, open and MAC with
 * KeyProviderError("vault_sealed") until custodians post M shares to it (keys/routes.ts). Then it combines them,
 * compares the check value (a wrong share is caught, not turned into a wrong key), opens the keyring (key versions
 * sealed under the master key, shamir-store.ts) and serves with software-keyring.ts's crypto.
 *
 * Shares are held as Buffers and zeroed once combined or discarded. The text a share arrived in (a JSON string)
 * cannot be overwritten in JavaScript; it is garbage once the request ends.
 */
import { randomBytes } from "node:crypto";
import { Secret } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { SharedKeyVersion } from "./key-versions.ts";
import { KeyProviderError } from "./provider.ts";
import type { AuditPublicKey, KeyProvider, KeyProviderStatus, KeyPurpose, ShareUnsealer, UnsealProgress } from "./provider.ts";
import { checkValue, checkValueMatches, combineShares, decodeShare, MASTER_KEY_BYTES, newMasterKey, shareIndex, splitMasterKey, assertParameters } from "./shamir-shares.ts";
import { highestKeyringVersion, insertCustody, insertKeyringKey, keyringVersions, openKeyring, readCustody, type Custody } from "./shamir-store.ts";
import { sealedVersion, SoftwareKeyring } from "./software-keyring.ts";

export interface ShamirKeyProvider extends KeyProvider {
  readonly kind: "shamir";
  readonly unsealer: ShareUnsealer;
  /**
   * `mpay vault init`: makes the master key and key version 1, stores the custody row, and returns the share
   * texts (to print once). This process is unsealed afterwards. Refused when a vault exists.
   */
  initialize(shares: number, threshold: number): Promise<Secret<string[]>>;
}

export async function openShamirKeyProvider(db: Db, log: (msg: string) => void = () => {}): Promise<ShamirKeyProvider> {
  const provider = new ShamirProvider(db, log, await readCustody(db));
  await provider.share();
  return provider;
}

class ShamirProvider implements ShamirKeyProvider {
  readonly kind = "shamir" as const;
  readonly unsealer: ShareUnsealer = { submitShare: (share) => this.#serial(() => this.#submit(share)) };
  readonly #db: Db;
  readonly #log: (msg: string) => void;
  #custody: Custody | null;
  #shared: SharedKeyVersion | null = null;
  /** Shares received while sealed, at most threshold − 1 between calls. */
  #pending: Buffer[] = [];
  #master: Buffer | null = null;
  #keyring: SoftwareKeyring | null = null;
  #closed = false;
  /** Unseal steps, init and rotation run one at a time: two custodians posting together combine once. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(db: Db, log: (msg: string) => void, custody: Custody | null) {
    this.#db = db;
    this.#log = log;
    this.#custody = custody;
  }

  async share(): Promise<void> {
    // Another process rotated: load the new version from the keyring before this process starts using it.
    this.#shared = await SharedKeyVersion.open(this.#db, "shamir", async (version) => {
      if (this.#keyring && !this.#keyring.has(version)) await this.#loadKeyring();
    });
  }

  isSealed(): boolean {
    return this.#keyring === null;
  }

  currentKeyVersion(): number {
    const version = this.#shared?.get() ?? null;
    if (this.isSealed()) throw sealed(this.#custody);
    if (version === null) throw new KeyProviderError("vault_not_initialized", "the shamir vault records no key version; run `mpay vault init`");
    return version;
  }

  async seal(purpose: KeyPurpose, plaintext: Uint8Array, aad: string): Promise<string> {
    const version = this.currentKeyVersion();
    return (await this.#ready(version)).seal(version, purpose, plaintext, aad);
  }

  async open(purpose: KeyPurpose, sealed: string, aad: string): Promise<Uint8Array> {
    const keyring = this.#unsealed();
    const version = sealedVersion(sealed);
    return (version === null ? keyring : await this.#ready(version)).open(purpose, sealed, aad);
  }

  async mac(purpose: KeyPurpose, data: Uint8Array): Promise<{ keyVersion: number; tag: string }> {
    const keyVersion = this.currentKeyVersion();
    return { keyVersion, tag: (await this.#ready(keyVersion)).mac(keyVersion, purpose, data) };
  }

  async verifyMac(purpose: KeyPurpose, data: Uint8Array, tag: string, keyVersion: number): Promise<boolean> {
    this.#unsealed();
    return (await this.#ready(keyVersion)).verifyMac(keyVersion, purpose, data, tag);
  }

  /** The audit head key is derived from keyring version 1 (audit-key.ts), so a re-split or a rotation keeps it. */
  async signAuditHead(signingInput: Uint8Array): Promise<Uint8Array> {
    return this.#unsealed().auditKey().sign(signingInput);
  }

  async auditPublicKey(): Promise<AuditPublicKey> {
    return this.#unsealed().auditKey().publicKey();
  }

  initialize(shares: number, threshold: number): Promise<Secret<string[]>> {
    return this.#serial(async () => {
      assertParameters(shares, threshold);
      const master = newMasterKey();
      const made: { key?: Buffer } = {};
      try {
        const texts = await splitMasterKey(master, shares, threshold);
        const custody = { threshold, shares, checkValue: checkValue(master) };
        await this.#shared!.advance(async (tx, recorded) => {
          if (recorded !== null || !(await insertCustody(tx, custody))) {
            throw new KeyProviderError("vault_already_initialized", "a shamir vault exists already; its custodians unseal it with `mpay vault unseal`");
          }
          made.key = randomBytes(MASTER_KEY_BYTES);
          await insertKeyringKey(tx, master, 1, made.key);
          return 1;
        });
        this.#custody = custody;
        this.#become(master, new SoftwareKeyring(new Map([[1, made.key!]])));
        made.key = undefined;
        return new Secret(texts);
      } catch (error) {
        master.fill(0);
        made.key?.fill(0);
        throw error;
      }
    });
  }

  rotate(): Promise<number> {
    return this.#serial(async () => {
      const keyring = this.#unsealed();
      const master = this.#master!;
      const made: { key?: Buffer } = {};
      try {
        return await this.#shared!.advance(
          async (tx, recorded) => {
            made.key = randomBytes(MASTER_KEY_BYTES);
            const next = Math.max(recorded ?? 0, await highestKeyringVersion(tx)) + 1;
            await insertKeyringKey(tx, master, next, made.key);
            return next;
          },
          (version) => {
            // After the commit (a rolled-back rotation leaves nothing in memory), before this process seals with it.
            keyring.add(version, made.key!);
            made.key = undefined;
          },
        );
      } finally {
        made.key?.fill(0);
      }
    });
  }

  async status(): Promise<KeyProviderStatus> {
    this.#custody ??= await readCustody(this.#db);
    const custody = this.#custody;
    return {
      kind: "shamir",
      initialized: custody !== null,
      sealed: this.isSealed(),
      currentKeyVersion: this.#shared?.get() ?? null,
      keyVersions: this.#keyring ? this.#keyring.versions() : await keyringVersions(this.#db),
      ...(custody ? { custody: { threshold: custody.threshold, shares: custody.shares, sharesReceived: this.#pending.length } } : {}),
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#shared?.close();
    this.#seal();
  }

  async #submit(text: string): Promise<UnsealProgress> {
    if (this.#closed) throw sealed(this.#custody);
    this.#custody ??= await readCustody(this.#db); // `vault init` may have run after this process started
    const custody = this.#custody;
    if (!custody) throw new KeyProviderError("vault_not_initialized", "there is no shamir vault to unseal; run `mpay vault init` first");
    if (!this.isSealed()) return { sealed: false, sharesReceived: 0, threshold: custody.threshold };
    const share = decodeShare(text);
    // The same share twice (a retried request) counts once; the x coordinate is what must differ.
    if (this.#pending.some((p) => shareIndex(p) === shareIndex(share))) {
      share.fill(0);
      return { sealed: true, sharesReceived: this.#pending.length, threshold: custody.threshold };
    }
    this.#pending.push(share);
    if (this.#pending.length < custody.threshold) return { sealed: true, sharesReceived: this.#pending.length, threshold: custody.threshold };

    const shares = this.#pending;
    this.#pending = [];
    let master: Buffer | null = null;
    try {
      master = await combineShares(shares);
      if (!checkValueMatches(master, custody.checkValue)) {
        throw new KeyProviderError("vault_share_rejected", `the ${custody.threshold} shares do not combine to this vault's key: at least one of them is wrong or from another vault. All were discarded; start again`);
      }
      const keyring = new SoftwareKeyring(await openKeyring(this.#db, master));
      this.#become(master, keyring);
      master = null;
      this.#log(`shamir vault unsealed with ${custody.threshold} of ${custody.shares} shares`);
      return { sealed: false, sharesReceived: custody.threshold, threshold: custody.threshold };
    } finally {
      for (const s of shares) s.fill(0);
      master?.fill(0);
    }
  }

  #become(master: Buffer, keyring: SoftwareKeyring): void {
    if (this.#closed) {
      master.fill(0);
      keyring.wipe();
      return;
    }
    this.#seal();
    this.#master = master;
    this.#keyring = keyring;
  }

  /** Forgets every key and share this process holds. */
  #seal(): void {
    for (const share of this.#pending) share.fill(0);
    this.#pending = [];
    this.#master?.fill(0);
    this.#master = null;
    this.#keyring?.wipe();
    this.#keyring = null;
  }

  /** The keyring with `version` in it, reading new versions from the database once if needed. */
  async #ready(version: number): Promise<SoftwareKeyring> {
    const keyring = this.#unsealed();
    if (!keyring.has(version)) await this.#loadKeyring();
    if (!keyring.has(version)) throw new KeyProviderError("key_version_unknown", `the shamir vault's keyring has no version ${String(version)}`);
    return keyring;
  }

  async #loadKeyring(): Promise<void> {
    const keyring = this.#keyring;
    const master = this.#master;
    if (!keyring || !master) return;
    const fresh = await openKeyring(this.#db, master, (v) => keyring.has(v));
    for (const [version, key] of fresh) {
      if (keyring.has(version)) key.fill(0);
      else keyring.add(version, key);
    }
  }

  #unsealed(): SoftwareKeyring {
    if (!this.#keyring || this.#closed) throw sealed(this.#custody);
    return this.#keyring;
  }

  #serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(step);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function sealed(custody: Custody | null): KeyProviderError {
  return custody
    ? new KeyProviderError("vault_sealed", `the shamir vault is sealed: ${custody.threshold} custodians must unseal it (\`mpay vault unseal\`)`)
    : new KeyProviderError("vault_not_initialized", "the shamir vault is not initialized; run `mpay vault init`");
}
