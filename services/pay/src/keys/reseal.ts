/**
 * Re-sealing after a rotation: every stored blob made by `keys.seal` is opened with its old key version and sealed
 * again with the current one, online, while the servers keep serving. `mpay vault rotate` runs it.
 *
 * How a table takes part (the pattern, for every context that stores sealed blobs):
 * 1. Write a Resealer. For a text column holding a blob as `keys.seal` returned it, `sealedColumnResealer` below
 *    is all it takes (table, primary key, column, purpose, and the same AAD function the context seals with).
 *    A table whose AAD or columns need more (say, a `kek_version` column kept beside the blob) implements the
 *    interface itself, keeping to the same rules: take a batch of rows on a version below `belowVersion`
 *    with `FOR UPDATE SKIP LOCKED` in one short transaction, open and seal each row inside it, write it back, and
 *    return how many rows were re-sealed (0 once none is left). Rows a writer holds are skipped: the driver
 *    comes back for them.
 * 2. Define it beside the context's code (`<context>/resealer.ts`) and register it in src/sealed-columns.ts, the one
 *    place that names every sealed column (sealed-columns.test.ts fails on a sealed column no resealer names).
 *
 * The version a blob was sealed with is part of it (`mk1.<version>.…`, sealed-format.ts), and opening it with
 * another version's key fails, so an AAD need not repeat the version. A caller that wants the version anyway
 * reads `keys.currentKeyVersion()` right before `keys.seal(…)` with no await between them: seal takes its version
 * synchronously when called, so both agree.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { queryRows } from "../db/client.ts";
import { VERSION_CACHE_MS } from "./key-versions.ts";
import { KeyProviderError } from "./provider.ts";
import type { KeyProvider, KeyPurpose } from "./provider.ts";
import { sealedVersion } from "./software-keyring.ts";

export interface ResealContext {
  db: Db;
  keys: KeyProvider;
}

export interface Resealer {
  /** Shown in `mpay vault rotate`'s report, e.g. `webhook_secrets.sealed_secret`. */
  readonly name: string;
  /** Re-seals up to `batchSize` rows sealed with a version below `belowVersion`; returns how many it re-sealed. */
  resealBatch(ctx: ResealContext, belowVersion: number, batchSize: number): Promise<number>;
  /** Rows still sealed with a version below `belowVersion`. */
  countBelow(db: Db, belowVersion: number): Promise<number>;
}

export interface SealedColumn<K extends string> {
  /** SQL names, written by us, never from input. */
  table: string;
  key: readonly K[];
  column: string;
  purpose: KeyPurpose;
  /** The AAD the owning context seals this row with, from its key columns. */
  aad(row: Record<K, string>): string;
}

/** The version field of `mk1.<version>.<payload>`, in SQL; rows with NULL or another format are not matched. */
const VERSION_PATTERN = "^mk1\\.([0-9]{1,9})\\.";

export function sealedColumnResealer<K extends string>(spec: SealedColumn<K>): Resealer {
  const table = sql.identifier(spec.table);
  const column = sql.identifier(spec.column);
  const below = (version: number): SQL => sql`substring(${column} from ${VERSION_PATTERN})::int < ${version}`;
  const keyList = sql.join(
    spec.key.map((k) => sql.identifier(k)),
    sql`, `,
  );
  return {
    name: `${spec.table}.${spec.column}`,
    async resealBatch(ctx, belowVersion, batchSize) {
      return ctx.db.transaction(async (tx) => {
        const rows = await queryRows<Record<K | "sealed", string>>(
          tx,
          sql`select ${keyList}, ${column} as sealed from ${table} where ${below(belowVersion)} limit ${batchSize} for update skip locked`,
        );
        for (const row of rows) {
          const aad = spec.aad(row);
          const opened = await ctx.keys.open(spec.purpose, row.sealed, aad).catch((error: unknown) => {
            // A row that does not open was altered or written under another key: stop and name it (its key
            // columns are ids, never secrets), rather than skip it and report a rotation as complete.
            const where = spec.key.map((k) => `${k}=${row[k]}`).join(", ");
            if (error instanceof KeyProviderError)
              throw new KeyProviderError(error.code, `${spec.table} (${where}): ${error.message}`);
            throw error;
          });
          let fresh: string;
          try {
            fresh = await ctx.keys.seal(spec.purpose, opened, aad);
          } finally {
            opened.fill(0);
          }
          // A process that has not heard of the rotation must not "re-seal" a row onto the old version forever.
          if ((sealedVersion(fresh) ?? 0) < belowVersion)
            throw new Error(`re-sealing ${spec.table} made a blob below key version ${belowVersion}`);
          const match = sql.join(
            spec.key.map((k) => sql`${sql.identifier(k)} = ${row[k]}`),
            sql` and `,
          );
          await tx.execute(sql`update ${table} set ${column} = ${fresh} where ${match}`);
        }
        return rows.length;
      });
    },
    async countBelow(db, belowVersion) {
      const [row] = await queryRows<{ n: number | string }>(
        db,
        sql`select count(*) as n from ${table} where ${below(belowVersion)}`,
      );
      return Number(row?.n ?? 0);
    },
  };
}

export interface ResealOptions {
  batchSize?: number;
  /** How long every process may take to notice the new version: the cache time plus a margin. */
  settleMs?: number;
  /** Gives up (and reports what is left) after this long. */
  timeoutMs?: number;
  onProgress?: (name: string, resealed: number) => void;
}

export interface ResealReport {
  /** Rows re-sealed, per resealer name. */
  resealed: Record<string, number>;
  /** Rows still below the version at the end, per resealer name (0 everywhere when the run completed). */
  left: Record<string, number>;
  total: number;
  leftTotal: number;
}

export interface RotationReport extends ResealReport {
  fromVersion: number;
  toVersion: number;
}

const DEFAULTS = { batchSize: 100, settleMs: 2 * VERSION_CACHE_MS + 500, timeoutMs: 10 * 60_000 };

/**
 * Makes a new key version, waits until every process seals with it, then re-seals every registered column.
 * Idempotent in effect: run again after an interruption, it re-seals what is left (and rotates once more).
 */
export async function rotateAndReseal(
  ctx: ResealContext,
  resealers: readonly Resealer[],
  options: ResealOptions = {},
): Promise<RotationReport> {
  const fromVersion = ctx.keys.currentKeyVersion();
  const toVersion = await ctx.keys.rotate();
  await sleep(options.settleMs ?? DEFAULTS.settleMs);
  return { fromVersion, toVersion, ...(await resealBelow(ctx, resealers, toVersion, options)) };
}

/**
 * Re-seals every row below `version`, in batches, until none is left. It looks again after a pause once it
 * found none: a row sealed with the old version by a process that had not yet heard of the new one, or by a
 * transaction that was still open, shows up only then.
 */
export async function resealBelow(
  ctx: ResealContext,
  resealers: readonly Resealer[],
  version: number,
  options: ResealOptions = {},
): Promise<ResealReport> {
  const batchSize = options.batchSize ?? DEFAULTS.batchSize;
  const settleMs = options.settleMs ?? DEFAULTS.settleMs;
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULTS.timeoutMs);
  const resealed: Record<string, number> = Object.fromEntries(resealers.map((r) => [r.name, 0]));
  let left: Record<string, number> = {};
  let confirmed = false;
  for (;;) {
    let pass = 0;
    for (const resealer of resealers) {
      for (;;) {
        const n = await resealer.resealBatch(ctx, version, batchSize);
        resealed[resealer.name] = (resealed[resealer.name] ?? 0) + n;
        pass += n;
        if (n > 0) options.onProgress?.(resealer.name, n);
        if (n < batchSize) break;
      }
    }
    left = Object.fromEntries(
      await Promise.all(resealers.map(async (r) => [r.name, await r.countBelow(ctx.db, version)] as const)),
    );
    const leftTotal = sum(left);
    if (leftTotal === 0 && confirmed) break;
    if (Date.now() > deadline) break;
    confirmed = leftTotal === 0;
    // Nothing to do but wait: for the final look, or for rows a writer holds locked right now.
    if (confirmed || pass === 0) await sleep(confirmed ? settleMs : 200);
  }
  return { resealed, left, total: sum(resealed), leftTotal: sum(left) };
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
