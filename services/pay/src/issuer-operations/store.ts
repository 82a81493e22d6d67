import { and, eq, lte, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { issuerOperations } from "./schema.ts";

export type IssuerOperationRow = typeof issuerOperations.$inferSelect;

/** Inserts an operation; null when the payment already has one pending (or, for `authorize`, any). */
export async function insertOperation(
  db: Executor,
  row: typeof issuerOperations.$inferInsert,
): Promise<IssuerOperationRow | null> {
  const rows = await db.insert(issuerOperations).values(row).onConflictDoNothing().returning();
  return rows[0] ?? null;
}

/** Ends a pending operation once; false when another process (the reconciler) settled it first. */
export async function endOperation(
  db: Executor,
  id: string,
  status: "done" | "failed",
  lastError: string | null = null,
): Promise<boolean> {
  const rows = await db
    .update(issuerOperations)
    .set({ status, lastError, doneAt: sql`now()` })
    .where(and(eq(issuerOperations.id, id), eq(issuerOperations.status, "pending")))
    .returning({ id: issuerOperations.id });
  return rows.length === 1;
}

/** Locks a pending operation for settling, or null if it is no longer pending or another process holds it. */
export async function lockPendingOperation(tx: Executor, id: string): Promise<IssuerOperationRow | null> {
  const rows = await tx
    .select()
    .from(issuerOperations)
    .where(and(eq(issuerOperations.id, id), eq(issuerOperations.status, "pending")))
    .for("update", { skipLocked: true });
  return rows[0] ?? null;
}

export async function duePendingOperations(
  db: Executor,
  limit: number,
  now = new Date(),
): Promise<IssuerOperationRow[]> {
  return db
    .select()
    .from(issuerOperations)
    .where(and(eq(issuerOperations.status, "pending"), lte(issuerOperations.nextAttemptAt, now)))
    .orderBy(issuerOperations.nextAttemptAt)
    .limit(limit);
}

/** Backs off exponentially: 2 s, 4 s, … capped at 5 minutes. */
export async function postponeOperation(db: Executor, id: string, lastError: string): Promise<void> {
  await db
    .update(issuerOperations)
    .set({
      attempts: sql`${issuerOperations.attempts} + 1`,
      lastError,
      nextAttemptAt: sql`now() + least(interval '5 minutes', interval '2 seconds' * power(2, ${issuerOperations.attempts}))`,
    })
    .where(eq(issuerOperations.id, id));
}

export async function operationsOf(db: Executor, paymentId: string): Promise<IssuerOperationRow[]> {
  return db
    .select()
    .from(issuerOperations)
    .where(eq(issuerOperations.paymentId, paymentId))
    .orderBy(issuerOperations.createdAt);
}

/** Operations still in doubt (pending), oldest first, and how many there are (the operator console's queue). */
export async function pendingOperations(
  db: Executor,
  limit: number,
): Promise<{ count: number; oldest: IssuerOperationRow[] }> {
  const oldest = await db
    .select()
    .from(issuerOperations)
    .where(eq(issuerOperations.status, "pending"))
    .orderBy(issuerOperations.createdAt)
    .limit(limit);
  const [row] = await db
    .select({ count: sql<number>`count(*)::int` })
    .from(issuerOperations)
    .where(eq(issuerOperations.status, "pending"));
  return { count: Number(row?.count ?? 0), oldest };
}
