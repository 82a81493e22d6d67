import { and, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { approvalChallenges, paymentApprovals } from "./schema.ts";

export type ChallengeRow = typeof approvalChallenges.$inferSelect;
export type ApprovalRow = typeof paymentApprovals.$inferSelect;

export async function insertChallenge(
  db: Executor,
  row: typeof approvalChallenges.$inferInsert,
): Promise<ChallengeRow> {
  const [inserted] = await db.insert(approvalChallenges).values(row).returning();
  return inserted!;
}

export async function findChallenge(db: Executor, id: string, payerId: string): Promise<ChallengeRow | null> {
  const rows = await db
    .select()
    .from(approvalChallenges)
    .where(and(eq(approvalChallenges.id, id), eq(approvalChallenges.payerId, payerId)));
  return rows[0] ?? null;
}

/** Spends the challenge: of two concurrent approvals (in any processes), only one gets the row back. */
export async function spendChallenge(tx: Executor, id: string): Promise<boolean> {
  const rows = await tx
    .update(approvalChallenges)
    .set({ usedAt: sql`now()` })
    .where(and(eq(approvalChallenges.id, id), isNull(approvalChallenges.usedAt)))
    .returning({ id: approvalChallenges.id });
  return rows.length === 1;
}

export async function insertApproval(tx: Executor, row: typeof paymentApprovals.$inferInsert): Promise<ApprovalRow> {
  const [inserted] = await tx.insert(paymentApprovals).values(row).returning();
  return inserted!;
}

export async function hasApproval(db: Executor, paymentId: string): Promise<boolean> {
  const rows = await db
    .select({ id: paymentApprovals.id })
    .from(paymentApprovals)
    .where(eq(paymentApprovals.paymentId, paymentId))
    .limit(1);
  return rows.length > 0;
}

export async function approvalsOf(db: Executor, paymentId: string): Promise<ApprovalRow[]> {
  return db.select().from(paymentApprovals).where(eq(paymentApprovals.paymentId, paymentId));
}

export async function findApproval(db: Executor, id: string, payerId: string): Promise<ApprovalRow | null> {
  const rows = await db
    .select()
    .from(paymentApprovals)
    .where(and(eq(paymentApprovals.id, id), eq(paymentApprovals.payerId, payerId)));
  return rows[0] ?? null;
}

export async function findApprovalOfPayment(db: Executor, paymentId: string): Promise<ApprovalRow | null> {
  const rows = await db.select().from(paymentApprovals).where(eq(paymentApprovals.paymentId, paymentId));
  return rows[0] ?? null;
}

export async function findChallengeById(db: Executor, id: string): Promise<ChallengeRow | null> {
  const rows = await db.select().from(approvalChallenges).where(eq(approvalChallenges.id, id));
  return rows[0] ?? null;
}
