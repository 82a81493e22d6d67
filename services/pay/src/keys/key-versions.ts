/**
 * The current key version, shared by every pay-server process through the `key_versions` table.
 *
 * Each process keeps the value in memory and re-reads it on a timer (every VERSION_CACHE_MS), never on the seal
 * path: seals run inside database transactions (a merchant and its sealed webhook secret commit together), and on
 * PGlite, a single connection, a query awaited inside a transaction would wait for that transaction forever.
 * So after a rotation every process seals with the new version within about VERSION_CACHE_MS; the re-seal pass
 * (reseal.ts) waits that long before it starts and re-checks at the end, so no row stays on an old version.
 */
import { eq } from "drizzle-orm";
import type { Db, Tx } from "../db/client.ts";
import type { KeyProviderKind } from "./provider.ts";
import { keyVersions } from "./schema.ts";

export const VERSION_CACHE_MS = 1000;

export class SharedKeyVersion {
  #current: number | null;
  #timer: NodeJS.Timeout | null = null;
  #refreshing: Promise<void> | null = null;

  private constructor(
    private readonly db: Db,
    private readonly kind: KeyProviderKind,
    current: number | null,
    private readonly onChange: (version: number) => Promise<void>,
  ) {
    this.#current = current;
  }

  /**
   * Reads the recorded version and starts the refresh timer. `onChange` runs (outside any transaction) when
   * another process recorded a newer version, so a provider can load that version's key before it is needed.
   */
  static async open(
    db: Db,
    kind: KeyProviderKind,
    onChange: (version: number) => Promise<void> = async () => {},
    intervalMs = VERSION_CACHE_MS,
  ): Promise<SharedKeyVersion> {
    const shared = new SharedKeyVersion(db, kind, await readVersion(db, kind), onChange);
    shared.#timer = setInterval(() => void shared.refresh(), intervalMs);
    shared.#timer.unref(); // a provider left open must not keep a CLI process alive
    return shared;
  }

  /** The last version read or written; null while none is recorded (before init, or a dev key file alone). */
  get(): number | null {
    return this.#current;
  }

  /** Re-reads now (the timer does this on its own); failures keep the last value: the next tick tries again. */
  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const read = await readVersion(this.db, this.kind);
        if (read !== null && read > (this.#current ?? 0)) {
          await this.onChange(read);
          this.#current = read;
        }
      } catch {
        // The database is briefly unreachable: sealing with the last known version is what every process did a
        // moment ago, and rotation's final re-check catches a row sealed meanwhile.
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  /**
   * Allocates the next version under the row's lock (so two rotations, in any processes, never pick one number):
   * `make` gets the transaction and the recorded version (null for none), makes the key, and returns its version,
   * which becomes current when the transaction commits. If `make` throws, nothing is recorded. `committed` runs
   * after the commit and before this process seals with the new version (a provider loads the key there).
   */
  async advance(
    make: (tx: Tx, recorded: number | null) => Promise<number>,
    committed: (version: number) => void = () => {},
  ): Promise<number> {
    const version = await this.db.transaction(async (tx) => {
      await tx.insert(keyVersions).values({ provider: this.kind, currentVersion: 0 }).onConflictDoNothing();
      const [row] = await tx.select().from(keyVersions).where(eq(keyVersions.provider, this.kind)).for("update");
      const recorded = row && row.currentVersion > 0 ? row.currentVersion : null;
      const next = await make(tx, recorded);
      if (recorded !== null && next <= recorded)
        throw new Error(`key version ${next} is not above the recorded ${recorded}`);
      await tx
        .update(keyVersions)
        .set({ currentVersion: next, updatedAt: new Date() })
        .where(eq(keyVersions.provider, this.kind));
      return next;
    });
    committed(version);
    if (version > (this.#current ?? 0)) this.#current = version;
    return version;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}

async function readVersion(db: Db, kind: KeyProviderKind): Promise<number | null> {
  const [row] = await db
    .select({ v: keyVersions.currentVersion })
    .from(keyVersions)
    .where(eq(keyVersions.provider, kind));
  return row && row.v > 0 ? row.v : null;
}
