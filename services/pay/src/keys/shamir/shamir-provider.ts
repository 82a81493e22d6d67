/**
 * The `shamir` key provider (DESIGN.md "Key providers": split knowledge, dual control). `mpay vault init` makes
 * a random master key, splits it M-of-N among custodians and stores only M, N and a check value
 * (shamir-shares.ts). Every process starts SEALED: it refuses every seal, open and MAC with
 * KeyProviderError("vault_sealed") until custodians post M shares to it (operator/vault-routes.ts). Then it combines them,
 * compares the check value (a wrong share is caught, not turned into a wrong key), opens the keyring (key versions
 * sealed under the master key, shamir-store.ts) and serves with software-keyring.ts's crypto.
 *
 * Shares are held as Buffers and zeroed once combined or discarded. The text a share arrived in (a JSON string)
 * cannot be overwritten in JavaScript; it is garbage once the request ends.
 *
 * `mpay vault rekey` replaces the master key and its shares (shamir-rekey.ts); an unsealed process registers
 * itself (shamir-processes.ts) so that a rekey in another process hands it the new master key while it serves.
 */
import { randomBytes } from "node:crypto";
import { Secret } from "@mpay/protocol";
import type { Db } from "../../db/client.ts";
import { SharedKeyVersion } from "../key-versions.ts";
import { KeyProviderError } from "../provider.ts";
import { providerSecret } from "../provider-secrets.ts";
import { AUDIT_KEY_SEED_BYTES, SoftwareAuditKey } from "../audit-key.ts";
import type {
  AuditPublicKey,
  KeyProvider,
  KeyProviderStatus,
  KeyPurpose,
  ShareUnsealer,
  UnsealProgress,
} from "../provider.ts";
import { UnsealedProcess } from "./shamir-processes.ts";
import { assertRotationAllowed, beginRekey, endRekeyIn, type RekeyEnd, type RekeyMade } from "./shamir-rekey.ts";
import {
  checkValue,
  checkValueMatches,
  combineShares,
  decodeShare,
  MASTER_KEY_BYTES,
  newMasterKey,
  newShareSet,
  notThisVaultsShare,
  shareIndex,
  shareRetired,
  splitMasterKey,
  assertParameters,
} from "./shamir-shares.ts";
import {
  highestKeyringVersion,
  insertCustody,
  insertKeyringKey,
  isRetiredShareSet,
  keyringVersions,
  openKeyring,
  readCustody,
  type Custody,
} from "./shamir-store.ts";
import { sealedVersion, SoftwareKeyring } from "../software-keyring.ts";

export interface ShamirKeyProvider extends KeyProvider {
  readonly kind: "shamir";
  readonly unsealer: ShareUnsealer;
  /**
   * `mpay vault init`: makes the master key and key version 1, stores the custody row, and returns the share
   * texts (to print once). This process is unsealed afterwards. Refused when a vault exists.
   */
  initialize(shares: number, threshold: number): Promise<Secret<string[]>>;
  /**
   * `mpay vault rekey`, from a process unsealed with the current shares: a new master key split M-of-N (the
   * returned shares, to print once), a new key version under it alone, the keyring moved to it and the new master
   * key delivered to the other unsealed processes (shamir-rekey.ts). The caller re-seals every row to
   * `rekey.version`, then calls endRekey. Refused while a rekey is unfinished.
   */
  rekey(
    shares: number,
    threshold: number,
  ): Promise<Pick<RekeyMade, "shares" | "version" | "delivered"> & { generation: number }>;
  /** Deletes the keys a rekey left behind, once every row is re-sealed; null when no rekey is unfinished. */
  endRekey(): Promise<RekeyEnd | null>;
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
  /** The share set generation of `#pending`'s shares: a rekey between two shares voids the earlier ones. */
  #pendingGeneration = 0;
  #master: Buffer | null = null;
  /** The share set generation of `#master`. */
  #generation: number | null = null;
  #process: UnsealedProcess | null = null;
  #keyring: SoftwareKeyring | null = null;
  #auditKey: Promise<SoftwareAuditKey> | null = null;
  #reloading: Promise<void> | null = null;
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
      // Not loaded (this process was sealed meanwhile, or the version is not readable yet): do not seal with it.
      if (this.#keyring && !this.#keyring.has(version))
        throw new KeyProviderError("key_version_unknown", `version ${version} is not in this process's keyring`);
    });
  }

  isSealed(): boolean {
    return this.#keyring === null;
  }

  currentKeyVersion(): number {
    const version = this.#shared?.get() ?? null;
    if (this.isSealed()) throw sealed(this.#custody);
    if (version === null)
      throw new KeyProviderError(
        "vault_not_initialized",
        "the shamir vault records no key version; run `mpay vault init`",
      );
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

  /**
   * The audit head key comes from a seed kept as a provider secret (sealed under the current version, re-sealed by
   * rotations and rekeys with every other sealed row), not from a key version: a rekey deletes the old versions, and
   * the log must keep one key for its whole life or its witness refuses the new one (audit_key_changed).
   */
  async signAuditHead(signingInput: Uint8Array): Promise<Uint8Array> {
    this.#unsealed();
    return (await this.#loadAuditKey()).sign(signingInput);
  }

  async auditPublicKey(): Promise<AuditPublicKey> {
    this.#unsealed();
    return (await this.#loadAuditKey()).publicKey();
  }

  /**
   * Loaded once unsealed, outside any transaction (init and unseal await it): an audit append signs inside its
   * transaction, and on PGlite a query on the pool there would wait for that transaction forever.
   */
  #loadAuditKey(): Promise<SoftwareAuditKey> {
    this.#auditKey ??= providerSecret(this.#db, this, "audit-head-seed", () =>
      randomBytes(AUDIT_KEY_SEED_BYTES).toString("base64url"),
    )
      .then((seed) => {
        const bytes = Buffer.from(seed.peek(), "base64url");
        try {
          return SoftwareAuditKey.fromSeed(bytes);
        } finally {
          bytes.fill(0);
        }
      })
      .catch((error: unknown) => {
        this.#auditKey = null;
        throw error;
      });
    return this.#auditKey;
  }

  initialize(shares: number, threshold: number): Promise<Secret<string[]>> {
    return this.#serial(async () => {
      assertParameters(shares, threshold);
      const master = newMasterKey();
      const made: { key?: Buffer } = {};
      try {
        const shareSet = newShareSet();
        const texts = await splitMasterKey(master, shares, threshold, shareSet);
        const custody: Custody = {
          threshold,
          shares,
          checkValue: checkValue(master),
          generation: 1,
          shareSet,
          rekeyVersion: null,
        };
        await this.#shared!.advance(async (tx, recorded) => {
          if (recorded !== null || !(await insertCustody(tx, custody))) {
            throw new KeyProviderError(
              "vault_already_initialized",
              "a shamir vault exists already; its custodians unseal it with `mpay vault unseal`",
            );
          }
          made.key = randomBytes(MASTER_KEY_BYTES);
          await insertKeyringKey(tx, master, custody.generation, 1, made.key);
          return 1;
        });
        this.#custody = custody;
        const process = await UnsealedProcess.register(this.#db, custody.generation);
        this.#become(master, new SoftwareKeyring(new Map([[1, made.key!]])), custody.generation, process);
        made.key = undefined;
        await this.#loadAuditKey();
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
        const generation = this.#generation!;
        return await this.#shared!.advance(
          async (tx, recorded) => {
            await assertRotationAllowed(tx, generation);
            made.key = randomBytes(MASTER_KEY_BYTES);
            const next = Math.max(recorded ?? 0, await highestKeyringVersion(tx)) + 1;
            await insertKeyringKey(tx, master, generation, next, made.key);
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

  rekey(
    shares: number,
    threshold: number,
  ): Promise<Pick<RekeyMade, "shares" | "version" | "delivered"> & { generation: number }> {
    return this.#serial(async () => {
      const keyring = this.#unsealed();
      const from = { master: this.#master!, generation: this.#generation! };
      const made: { rekey?: RekeyMade } = {};
      try {
        await this.#shared!.advance(
          async (tx, recorded) => {
            made.rekey = await beginRekey(
              tx,
              { ...from, recorded, self: this.#process?.id ?? null },
              { shares, threshold },
            );
            return made.rekey.version;
          },
          (version) => {
            // Committed: this process moves to the new master key at once and seals with the new version.
            const rekey = made.rekey!;
            keyring.add(version, rekey.key);
            rekey.key = Buffer.alloc(0);
            from.master.fill(0);
            this.#master = rekey.master;
            this.#generation = rekey.custody.generation;
            this.#custody = rekey.custody;
          },
        );
        const rekey = made.rekey!;
        await this.#process?.moved(rekey.custody.generation);
        return {
          shares: rekey.shares,
          version: rekey.version,
          delivered: rekey.delivered,
          generation: rekey.custody.generation,
        };
      } catch (error) {
        if (made.rekey && this.#master !== made.rekey.master) {
          made.rekey.master.fill(0);
          made.rekey.key.fill(0);
        }
        throw error;
      }
    });
  }

  endRekey(): Promise<RekeyEnd | null> {
    return this.#serial(async () => {
      this.#unsealed();
      const generation = this.#generation!;
      const ended = await this.#db.transaction((tx) => endRekeyIn(tx, generation));
      if (ended?.ended) this.#custody = await readCustody(this.#db);
      return ended;
    });
  }

  async status(): Promise<KeyProviderStatus> {
    // Read every time: another process may have re-keyed (M, N and the generation change).
    this.#custody = (await readCustody(this.#db)) ?? this.#custody;
    const custody = this.#custody;
    return {
      kind: "shamir",
      initialized: custody !== null,
      sealed: this.isSealed(),
      currentKeyVersion: this.#shared?.get() ?? null,
      keyVersions: this.#keyring ? this.#keyring.versions() : await keyringVersions(this.#db),
      ...(custody
        ? {
            custody: {
              threshold: custody.threshold,
              shares: custody.shares,
              sharesReceived: this.#pending.length,
              generation: custody.generation,
              rekeyPending: custody.rekeyVersion !== null,
            },
          }
        : {}),
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#shared?.close();
    const process = this.#process;
    this.#process = null;
    await process?.leave();
    this.#seal();
  }

  async #submit(text: string): Promise<UnsealProgress> {
    if (this.#closed) throw sealed(this.#custody);
    if (!this.isSealed() && this.#custody)
      return { sealed: false, sharesReceived: 0, threshold: this.#custody.threshold };
    // Read at every share: `vault init` may have run since this process started, or a rekey replaced the set.
    const custody = (this.#custody = await readCustody(this.#db));
    if (!custody)
      throw new KeyProviderError(
        "vault_not_initialized",
        "there is no shamir vault to unseal; run `mpay vault init` first",
      );
    if (!this.isSealed()) return { sealed: false, sharesReceived: 0, threshold: custody.threshold };
    const { shareSet, bytes: share } = decodeShare(text);
    if (shareSet !== custody.shareSet) {
      share.fill(0);
      throw (await isRetiredShareSet(this.#db, shareSet)) ? shareRetired() : notThisVaultsShare();
    }
    if (this.#pendingGeneration !== custody.generation) {
      // Shares collected before a rekey belong to the replaced set: they can never count now.
      this.#wipePending();
      this.#pendingGeneration = custody.generation;
    }
    // The same share twice (a retried request) counts once; the x coordinate is what must differ.
    if (this.#pending.some((p) => shareIndex(p) === shareIndex(share))) {
      share.fill(0);
      return { sealed: true, sharesReceived: this.#pending.length, threshold: custody.threshold };
    }
    this.#pending.push(share);
    if (this.#pending.length < custody.threshold)
      return { sealed: true, sharesReceived: this.#pending.length, threshold: custody.threshold };

    const shares = this.#pending;
    this.#pending = [];
    let master: Buffer | null = null;
    try {
      master = await combineShares(shares);
      if (!checkValueMatches(master, custody.checkValue)) {
        throw new KeyProviderError(
          "vault_share_rejected",
          `the ${custody.threshold} shares do not combine to this vault's key: at least one of them is wrong or from another vault. All were discarded; start again`,
        );
      }
      const keyring = new SoftwareKeyring(await openKeyring(this.#db, master, custody.generation));
      let process: UnsealedProcess;
      try {
        process = await UnsealedProcess.register(this.#db, custody.generation);
      } catch (error) {
        keyring.wipe();
        throw error;
      }
      this.#become(master, keyring, custody.generation, process);
      master = null;
      await this.#loadAuditKey();
      this.#log(`shamir vault unsealed with ${custody.threshold} of ${custody.shares} shares`);
      return { sealed: false, sharesReceived: custody.threshold, threshold: custody.threshold };
    } finally {
      for (const s of shares) s.fill(0);
      master?.fill(0);
    }
  }

  #become(master: Buffer, keyring: SoftwareKeyring, generation: number, process: UnsealedProcess): void {
    if (this.#closed) {
      master.fill(0);
      keyring.wipe();
      void process.leave();
      return;
    }
    this.#seal();
    this.#master = master;
    this.#generation = generation;
    this.#keyring = keyring;
    this.#process = process;
  }

  /** Forgets every key and share this process holds. */
  #seal(): void {
    this.#auditKey = null;
    this.#wipePending();
    this.#master?.fill(0);
    this.#master = null;
    this.#generation = null;
    this.#keyring?.wipe();
    this.#keyring = null;
    void this.#process?.leave();
    this.#process = null;
  }

  #wipePending(): void {
    for (const share of this.#pending) share.fill(0);
    this.#pending = [];
  }

  /** The keyring with `version` in it, reading new versions from the database once if needed. */
  async #ready(version: number): Promise<SoftwareKeyring> {
    const keyring = this.#unsealed();
    if (!keyring.has(version)) await this.#loadKeyring();
    if (!keyring.has(version))
      throw new KeyProviderError("key_version_unknown", `the shamir vault's keyring has no version ${String(version)}`);
    return keyring;
  }

  /** One reload at a time: the refresh timer and a seal that needs a version may both ask. */
  #loadKeyring(): Promise<void> {
    this.#reloading ??= this.#reload().finally(() => (this.#reloading = null));
    return this.#reloading;
  }

  async #reload(): Promise<void> {
    const keyring = this.#keyring;
    if (!keyring || this.#generation === null) return;
    const custody = await readCustody(this.#db);
    if (custody && custody.generation > this.#generation) await this.#follow(custody);
    const master = this.#master;
    if (this.#keyring !== keyring || !master || this.#generation === null) return; // sealed meanwhile
    const fresh = await openKeyring(this.#db, master, this.#generation, (v) => keyring.has(v));
    for (const [version, key] of fresh) {
      if (keyring.has(version)) key.fill(0);
      else keyring.add(version, key);
    }
  }

  /**
   * Another process re-keyed: take the new master key it delivered to this one and serve on with it. Without one
   * (this process was not seen when the rekey ran), it cannot follow: it seals itself, loudly, so the load
   * balancer stops sending it work, until custodians unseal it with the new shares.
   */
  async #follow(custody: Custody): Promise<void> {
    const master = this.#master;
    const next = master && this.#process ? await this.#process.takeDelivery(master, custody) : null;
    if (!next) {
      this.#log(
        `the shamir vault was re-keyed (share set ${custody.generation}) and no new master key was delivered to this process: it seals itself; unseal it with the new shares`,
      );
      this.#seal();
      return;
    }
    if (!master || this.#master !== master) {
      next.fill(0); // sealed or moved meanwhile
      return;
    }
    master.fill(0);
    this.#master = next;
    this.#generation = custody.generation;
    this.#custody = custody;
    await this.#process?.moved(custody.generation);
    this.#log(
      `shamir vault re-keyed by another process: this process moved to share set ${custody.generation} without stopping`,
    );
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
    ? new KeyProviderError(
        "vault_sealed",
        `the shamir vault is sealed: ${custody.threshold} custodians must unseal it (\`mpay vault unseal\`)`,
      )
    : new KeyProviderError("vault_not_initialized", "the shamir vault is not initialized; run `mpay vault init`");
}
