import { and, asc, desc, eq, gt, lte, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { auditHeads, auditLog, auditSignedHeads } from "./schema.ts";

export type AuditRow = typeof auditLog.$inferSelect;
export type SignedHeadRow = typeof auditSignedHeads.$inferSelect;
export type LegacyHeadRow = typeof auditHeads.$inferSelect;

/** Any fixed number: the advisory lock that makes appends to the chain one at a time. */
const AUDIT_APPEND_LOCK = 7_402_312;

/**
 * Serialises appenders for the rest of the transaction. An advisory lock rather than the head row's lock, because
 * before the first entry there is no row to lock and two first appends would collide.
 */
export async function lockAppends(tx: Executor): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_APPEND_LOCK})`);
}

export async function insertEntry(tx: Executor, row: AuditRow): Promise<void> {
  await tx.insert(auditLog).values(row);
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
