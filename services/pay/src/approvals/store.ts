import { and, desc, eq, isNull, lt, sql } from "drizzle-orm";
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

/**
 * The payer's challenge and whether its payment already has an approval, in one round trip (one approval per
 * payment: the unique index on payment_id).
 */
export async function findChallengeToApprove(
  db: Executor,
  id: string,
  payerId: string,
): Promise<{ challenge: ChallengeRow; approved: boolean } | null> {
  const rows = await db
    .select({ challenge: approvalChallenges, approvalId: paymentApprovals.id })
    .from(approvalChallenges)
    .leftJoin(paymentApprovals, eq(paymentApprovals.paymentId, approvalChallenges.paymentId))
    .where(and(eq(approvalChallenges.id, id), eq(approvalChallenges.payerId, payerId)))
    .limit(1);
  const row = rows[0];
  return row ? { challenge: row.challenge, approved: row.approvalId !== null } : null;
}

/** The payer's approval with its challenge, in one round trip. */
export async function findApprovalWithChallenge(
  db: Executor,
  id: string,
  payerId: string,
): Promise<{ approval: ApprovalRow; challenge: ChallengeRow } | null> {
  const rows = await db
    .select({ approval: paymentApprovals, challenge: approvalChallenges })
    .from(paymentApprovals)
    .innerJoin(approvalChallenges, eq(approvalChallenges.id, paymentApprovals.challengeId))
    .where(and(eq(paymentApprovals.id, id), eq(paymentApprovals.payerId, payerId)));
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

export async function approvalsOf(db: Executor, paymentId: string): Promise<ApprovalRow[]> {
  return db.select().from(paymentApprovals).where(eq(paymentApprovals.paymentId, paymentId));
}

export async function findApprovalOfPayment(db: Executor, paymentId: string): Promise<ApprovalRow | null> {
  const rows = await db.select().from(paymentApprovals).where(eq(paymentApprovals.paymentId, paymentId));
  return rows[0] ?? null;
}

export async function findChallengeById(db: Executor, id: string): Promise<ChallengeRow | null> {
  const rows = await db.select().from(approvalChallenges).where(eq(approvalChallenges.id, id));
  return rows[0] ?? null;
}

/** Who approved a payment and with which card (the payer's view of it). */
export async function approvalOfPayment(
  db: Executor,
  paymentId: string,
): Promise<{ payerId: string; cardId: string | null } | null> {
  const rows = await db
    .select({ payerId: paymentApprovals.payerId, cardId: approvalChallenges.cardId })
    .from(paymentApprovals)
    .innerJoin(approvalChallenges, eq(approvalChallenges.id, paymentApprovals.challengeId))
    .where(eq(paymentApprovals.paymentId, paymentId));
  return rows[0] ?? null;
}

/** The payments a payer approved, newest first (payment ids are time-ordered), with the card each named. */
export async function approvedBy(
  db: Executor,
  payerId: string,
  page: { limit: number; startingAfter?: string | undefined },
): Promise<Array<{ paymentId: string; cardId: string | null }>> {
  const conditions = [eq(paymentApprovals.payerId, payerId)];
  if (page.startingAfter) conditions.push(lt(paymentApprovals.paymentId, page.startingAfter));
  return db
    .select({ paymentId: paymentApprovals.paymentId, cardId: approvalChallenges.cardId })
    .from(paymentApprovals)
    .innerJoin(approvalChallenges, eq(approvalChallenges.id, paymentApprovals.challengeId))
    .where(and(...conditions))
    .orderBy(desc(paymentApprovals.paymentId))
    .limit(page.limit);
}
