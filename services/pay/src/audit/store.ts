import { asc, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { auditHeads, auditLog } from "../db/schema.ts";

export type AuditRow = typeof auditLog.$inferSelect;
export type AuditHeadRow = typeof auditHeads.$inferSelect;

/** Any fixed number: the advisory lock that makes appends to the chain one at a time. */
const AUDIT_APPEND_LOCK = 7_402_312;

/**
 * Serialises appenders for the rest of the transaction and reads the head. An advisory lock rather than the head
 * row's lock, because before the first entry there is no row to lock and two first appends would collide.
 */
export async function lockHead(tx: Executor, chain: string): Promise<AuditHeadRow | null> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_APPEND_LOCK})`);
  const rows = await tx.select().from(auditHeads).where(eq(auditHeads.chain, chain));
  return rows[0] ?? null;
}

export async function insertEntry(tx: Executor, row: AuditRow): Promise<void> {
  await tx.insert(auditLog).values(row);
}

export async function writeHead(tx: Executor, head: Omit<AuditHeadRow, "updatedAt">): Promise<void> {
  await tx
    .insert(auditHeads)
    .values(head)
    .onConflictDoUpdate({
      target: auditHeads.chain,
      set: { seq: head.seq, hash: head.hash, tag: head.tag, keyVersion: head.keyVersion, updatedAt: sql`now()` },
    });
}

/** Entries in storage order (by seq): verification must see exactly what is stored, gaps and all. */
export async function allEntries(db: Executor): Promise<AuditRow[]> {
  return db.select().from(auditLog).orderBy(asc(auditLog.seq));
}

export async function readHead(db: Executor, chain: string): Promise<AuditHeadRow | null> {
  const rows = await db.select().from(auditHeads).where(eq(auditHeads.chain, chain));
  return rows[0] ?? null;
}

export async function recentEntries(db: Executor, limit: number): Promise<AuditRow[]> {
  return db.select().from(auditLog).orderBy(sql`${auditLog.seq} desc`).limit(limit);
}
