import { and, eq, lte, sql } from "drizzle-orm";
import { driverDateOrNull as dateOrNull, namedStatement } from "@mpay/service-kit";
import type { Executor } from "../db/client.ts";
import { issuerOperations } from "./schema.ts";

export type IssuerOperationRow = typeof issuerOperations.$inferSelect;

const p = (name: string) => sql.placeholder(name);

/**
 * Named statements for what every payment does here (issue 11): its authorization is opened before the issuer is
 * asked and ended with the decision, so drizzle builds neither per request.
 */
const insertStatement = namedStatement<Record<string, unknown>>(
  "issuer_operations_insert",
  sql`insert into issuer_operations (id, payment_id, merchant_id, issuer_id, kind, amount, refund_id, status, deadline_at)
  values (${p("id")}, ${p("paymentId")}, ${p("merchantId")}, ${p("issuerId")}, ${p("kind")}, ${p("amount")}::int8,
    ${p("refundId")}, ${p("status")}, ${p("deadlineAt")}::timestamptz)
  on conflict do nothing returning *`,
);

// The status a parameter, not a literal: see payments/store.ts awaitingApproval (a literal matching the partial index
// issuer_operations_due would let the generic plan read every pending operation).
const endStatement = namedStatement<{ id: string }>(
  "issuer_operations_end",
  sql`update issuer_operations set status = ${p("status")}, last_error = ${p("lastError")}, done_at = now()
  where id = ${p("id")} and status = ${p("fromStatus")} returning id`,
);

/** Inserts an operation; null when the payment already has one pending (or, for `authorize`, any). */
export async function insertOperation(
  db: Executor,
  row: Pick<IssuerOperationRow, "id" | "paymentId" | "merchantId" | "issuerId" | "kind" | "status"> &
    Partial<Pick<IssuerOperationRow, "amount" | "refundId" | "deadlineAt">>,
): Promise<IssuerOperationRow | null> {
  const [inserted] = await insertStatement.run(db, {
    id: row.id,
    paymentId: row.paymentId,
    merchantId: row.merchantId,
    issuerId: row.issuerId,
    kind: row.kind,
    amount: row.amount ?? null,
    refundId: row.refundId ?? null,
    status: row.status,
    deadlineAt: row.deadlineAt ? row.deadlineAt.toISOString() : null,
  });
  return inserted ? operationFromDriver(inserted) : null;
}

/** An `issuer_operations` row as a named statement reads it (snake_case, driver types) as drizzle would map it. */
function operationFromDriver(r: Record<string, unknown>): IssuerOperationRow {
  return {
    id: r.id as string,
    paymentId: r.payment_id as string,
    merchantId: r.merchant_id as string,
    issuerId: r.issuer_id as string,
    kind: r.kind as IssuerOperationRow["kind"],
    amount: r.amount === null || r.amount === undefined ? null : Number(r.amount),
    refundId: (r.refund_id ?? null) as string | null,
    status: r.status as IssuerOperationRow["status"],
    attempts: Number(r.attempts),
    lastError: (r.last_error ?? null) as string | null,
    nextAttemptAt: dateOrNull(r.next_attempt_at) as Date,
    deadlineAt: dateOrNull(r.deadline_at),
    createdAt: dateOrNull(r.created_at) as Date,
    doneAt: dateOrNull(r.done_at),
  };
}

/** Ends a pending operation once; false when another process (the reconciler) settled it first. */
export async function endOperation(
  db: Executor,
  id: string,
  status: "done" | "failed",
  lastError: string | null = null,
): Promise<boolean> {
  const rows = await endStatement.run(db, { id, status, lastError, fromStatus: "pending" });
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
