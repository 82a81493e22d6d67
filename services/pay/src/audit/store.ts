import { and, asc, desc, eq, gt, lt, lte, sql } from "drizzle-orm";
import { queryRows, type Db, type Executor } from "../db/client.ts";
import { auditHeads, auditLog, auditPending, auditSignedHeads } from "./schema.ts";

export type AuditRow = typeof auditLog.$inferSelect;
export type SignedHeadRow = typeof auditSignedHeads.$inferSelect;
export type LegacyHeadRow = typeof auditHeads.$inferSelect;
export type PendingRow = typeof auditPending.$inferSelect;

/** Any fixed number: the advisory lock that makes sealing into the chain one batch at a time. */
const AUDIT_APPEND_LOCK = 7_402_312;

/**
 * Serialises sealers for the rest of the transaction. An advisory lock rather than the head row's lock, because
 * before the first entry there is no row to lock and two first batches would collide.
 */
export async function lockAppends(tx: Executor): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_APPEND_LOCK})`);
}

/** Any fixed number: the advisory lock that gives one pay-server process at a time its turn to send a head. */
const WITNESS_TURN_LOCK = 7_402_313;

/**
 * Runs `work` (read the newest head, send it to the witness) while a transaction holds the witness's turn, or
 * returns null at once when another process holds it. Without it, two processes that read the head at different
 * moments could send an older head after a newer one, and the witness would refuse it as a shrunk log.
 * PostgreSQL only: the transaction waits on `work`'s own queries, made on other connections of the pool.
 */
export function inWitnessTurn<T>(db: Db, work: () => Promise<T>): Promise<T | null> {
  return db.transaction(async (tx) => {
    const [row] = await queryRows<{ turn: boolean }>(
      tx,
      sql`select pg_try_advisory_xact_lock(${WITNESS_TURN_LOCK}) as turn`,
    );
    return row?.turn ? work() : null;
  });
}

/** One statement, no lock: what `append` does inside the caller's transaction. */
export async function insertPending(tx: Executor, row: Omit<PendingRow, "id">): Promise<void> {
  await tx.insert(auditPending).values(row);
}

/**
 * Whether any committed entry waits to be sealed: one cheap read, so a reader that seals first pays little. Ordered
 * by id so that it walks the primary key: audit_pending is a queue, full of dead rows between two autovacuums (500
 * appends a second leave ~30 000 of them in autovacuum's minute), and a sequential scan would read them all each time
 * (the bench's EXPLAIN showed it, and PostgreSQL's CPU per payment varied 1.7–20 ms with two pay processes).
 */
export async function anyPending(db: Executor): Promise<boolean> {
  const rows = await db.select({ id: auditPending.id }).from(auditPending).orderBy(auditPending.id).limit(1);
  return rows.length > 0;
}

/**
 * Takes up to `limit` committed pending entries, oldest id first, and deletes them (the caller links them into
 * the chain in the same transaction, so a rollback puts them back). Rows another transaction holds locked are
 * skipped rather than waited for: the sealer never stalls behind them, and `verify` reports them once they are old.
 */
export async function takePending(tx: Executor, limit: number): Promise<PendingRow[]> {
  const rows = await queryRows<{
    id: string | number;
    at: string;
    actor: string;
    action: string;
    target: string | null;
    data: Record<string, unknown> | string;
  }>(
    tx,
    // `= any(array(…))` rather than `in (…)`: the delete then finds its rows by the primary key, where a semi join
    // scanned the whole queue, dead rows and all (see anyPending).
    sql`delete from audit_pending where id = any(array(
    select id from audit_pending order by id limit ${limit} for update skip locked
  )) returning id, at, actor, action, target, data`,
  );
  return rows
    .map((row) => ({
      id: Number(row.id),
      at: row.at,
      actor: row.actor,
      action: row.action,
      target: row.target,
      data: typeof row.data === "string" ? (JSON.parse(row.data) as Record<string, unknown>) : row.data,
    }))
    .sort((a, b) => a.id - b.id);
}

/** How many pending entries were appended before `before` (ISO), and the oldest one's time. */
export async function pendingBefore(db: Executor, before: string): Promise<{ count: number; oldest: string | null }> {
  const rows = await db
    .select({ count: sql<number>`count(*)::int`, oldest: sql<string | null>`min(${auditPending.at})` })
    .from(auditPending)
    .where(lt(auditPending.at, before));
  return { count: Number(rows[0]?.count ?? 0), oldest: rows[0]?.oldest ?? null };
}

export async function insertEntries(tx: Executor, rows: AuditRow[]): Promise<void> {
  if (rows.length > 0) await tx.insert(auditLog).values(rows);
}

export async function insertSignedHead(tx: Executor, row: SignedHeadRow): Promise<void> {
  await tx.insert(auditSignedHeads).values(row);
}

/** The head with the most entries, or null before the first signed append. */
export async function latestSignedHead(db: Executor, chain: string): Promise<SignedHeadRow | null> {
  const rows = await db
    .select()
    .from(auditSignedHeads)
    .where(eq(auditSignedHeads.chain, chain))
    .orderBy(desc(auditSignedHeads.size))
    .limit(1);
  return rows[0] ?? null;
}

/** Every signed head of the chain with at most `upTo` entries, by size. */
export async function signedHeads(
  db: Executor,
  chain: string,
  upTo = Number.MAX_SAFE_INTEGER,
): Promise<SignedHeadRow[]> {
  return db
    .select()
    .from(auditSignedHeads)
    .where(and(eq(auditSignedHeads.chain, chain), lte(auditSignedHeads.size, upTo)))
    .orderBy(asc(auditSignedHeads.size));
}

/** The MACed head written before heads were signed (no longer written). */
export async function legacyHead(db: Executor, chain: string): Promise<LegacyHeadRow | null> {
  const rows = await db.select().from(auditHeads).where(eq(auditHeads.chain, chain));
  return rows[0] ?? null;
}

/**
 * Entries in storage order (by seq), `limit` at a time after `afterSeq`: verification must see exactly what is
 * stored, gaps and all, without holding a large log in memory.
 */
export async function entriesAfter(db: Executor, afterSeq: number, limit: number): Promise<AuditRow[]> {
  return db.select().from(auditLog).where(gt(auditLog.seq, afterSeq)).orderBy(asc(auditLog.seq)).limit(limit);
}

/** Every entry, page by page, in storage order. */
export async function* allEntries(db: Executor, pageSize = 1000): AsyncGenerator<AuditRow> {
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const page = await entriesAfter(db, after, pageSize);
    yield* page;
    const last = page.at(-1);
    if (!last || page.length < pageSize) return;
    after = last.seq;
  }
}

export async function recentEntries(db: Executor, limit: number): Promise<AuditRow[]> {
  return db.select().from(auditLog).orderBy(sql`${auditLog.seq} desc`).limit(limit);
}
