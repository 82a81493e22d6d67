import { and, desc, eq, lt, sql } from "drizzle-orm";
import { driverDate as date, driverDateOrNull as dateOrNull, namedStatement, onFoundRow } from "@mpay/service-kit";
import type { Executor } from "../db/client.ts";
import { approvalChallenges, paymentApprovals } from "./schema.ts";

export type ChallengeRow = typeof approvalChallenges.$inferSelect;
export type ApprovalRow = typeof paymentApprovals.$inferSelect;

// ---- The approval path's statements, named (issue 11; service-kit named-statement.ts): parsed and planned once per
// connection, and built by drizzle never, since each runs once or twice for every payment. ----

const p = (name: string) => sql.placeholder(name);

const CHALLENGE_COLUMNS = sql.raw(
  `c.id, c.payment_id, c.merchant_id, c.payer_id, c.device_id, c.card_id, c.terms, c.mandate_terms, c.expires_at,
  c.used_at, c.created_at`,
);
const APPROVAL_COLUMNS = sql.raw(
  `a.id as a_id, a.challenge_id as a_challenge_id, a.payment_id as a_payment_id, a.merchant_id as a_merchant_id,
  a.payer_id as a_payer_id, a.device_id as a_device_id, a.method as a_method, a.device_signature as a_device_signature,
  a.passkey_assertion as a_passkey_assertion, a.created_at as a_created_at`,
);

/** A challenge as the driver reads it (timestamps as text: named-statement.ts). */
interface RawChallenge {
  id: string;
  payment_id: string;
  merchant_id: string;
  payer_id: string;
  device_id: string;
  card_id: string | null;
  terms: string;
  mandate_terms: string | null;
  expires_at: unknown;
  used_at: unknown;
  created_at: unknown;
}

/** An approval as the driver reads it, its columns prefixed `a_` (they share a row with its challenge's). */
interface RawApproval {
  a_id: string;
  a_challenge_id: string;
  a_payment_id: string;
  a_merchant_id: string;
  a_payer_id: string;
  a_device_id: string;
  a_method: ApprovalRow["method"];
  a_device_signature: string;
  a_passkey_assertion: unknown;
  a_created_at: unknown;
}

function challengeOf(r: RawChallenge): ChallengeRow {
  return {
    id: r.id,
    paymentId: r.payment_id,
    merchantId: r.merchant_id,
    payerId: r.payer_id,
    deviceId: r.device_id,
    cardId: r.card_id,
    terms: r.terms,
    mandateTerms: r.mandate_terms,
    expiresAt: date(r.expires_at),
    usedAt: dateOrNull(r.used_at),
    createdAt: date(r.created_at),
  };
}

function approvalOf(r: RawApproval): ApprovalRow {
  return {
    id: r.a_id,
    challengeId: r.a_challenge_id,
    paymentId: r.a_payment_id,
    merchantId: r.a_merchant_id,
    payerId: r.a_payer_id,
    deviceId: r.a_device_id,
    method: r.a_method,
    deviceSignature: r.a_device_signature,
    passkeyAssertion: r.a_passkey_assertion ?? null,
    createdAt: date(r.a_created_at),
  };
}

const insertChallengeStatement = namedStatement<RawChallenge>(
  "approvals_insert_challenge",
  sql`insert into approval_challenges as c
    (id, payment_id, merchant_id, payer_id, device_id, card_id, terms, mandate_terms, expires_at)
  values (${p("id")}, ${p("paymentId")}, ${p("merchantId")}, ${p("payerId")}, ${p("deviceId")}, ${p("cardId")},
    ${p("terms")}, ${p("mandateTerms")}, ${p("expiresAt")}::timestamptz)
  returning ${CHALLENGE_COLUMNS}`,
);

export async function insertChallenge(
  db: Executor,
  row: Omit<typeof approvalChallenges.$inferInsert, "usedAt" | "createdAt">,
): Promise<ChallengeRow> {
  const [inserted] = await insertChallengeStatement.run(db, {
    ...row,
    cardId: row.cardId ?? null,
    mandateTerms: row.mandateTerms ?? null,
    expiresAt: row.expiresAt.toISOString(),
  });
  return challengeOf(inserted!);
}

const challengeToApprove = namedStatement<RawChallenge & { approved: boolean }>(
  "approvals_challenge_to_approve",
  sql`select ${CHALLENGE_COLUMNS}, a.id is not null as approved
  from approval_challenges c left join payment_approvals a on a.payment_id = c.payment_id
  where c.id = ${p("id")} and ${onFoundRow(sql`c.payer_id = ${p("payerId")}`)}
  limit 1`,
);

/**
 * The payer's challenge and whether its payment already has an approval, in one round trip (one approval per
 * payment: the unique index on payment_id).
 */
export async function findChallengeToApprove(
  db: Executor,
  id: string,
  payerId: string,
): Promise<{ challenge: ChallengeRow; approved: boolean } | null> {
  const [row] = await challengeToApprove.run(db, { id, payerId });
  return row ? { challenge: challengeOf(row), approved: row.approved } : null;
}

const approvalWithChallenge = namedStatement<RawApproval & RawChallenge>(
  "approvals_with_challenge",
  sql`select ${APPROVAL_COLUMNS}, ${CHALLENGE_COLUMNS}
  from payment_approvals a join approval_challenges c on c.id = a.challenge_id
  where a.id = ${p("id")} and ${onFoundRow(sql`a.payer_id = ${p("payerId")}`)}`,
);

/** The payer's approval with its challenge, in one round trip. */
export async function findApprovalWithChallenge(
  db: Executor,
  id: string,
  payerId: string,
): Promise<{ approval: ApprovalRow; challenge: ChallengeRow } | null> {
  const [row] = await approvalWithChallenge.run(db, { id, payerId });
  return row ? { approval: approvalOf(row), challenge: challengeOf(row) } : null;
}

/**
 * Spends the challenge and records the approval, in one statement: the approval is inserted only from the row the
 * spend returned, so of two concurrent approvals of one challenge (in any processes) only one gets a row back.
 */
const spendAndRecord = namedStatement<RawApproval>(
  "approvals_spend_and_record",
  sql`with spent as (
    update approval_challenges set used_at = now() where id = ${p("challengeId")} and used_at is null returning id
  )
  insert into payment_approvals as a
    (id, challenge_id, payment_id, merchant_id, payer_id, device_id, method, device_signature, passkey_assertion)
  select ${p("id")}, spent.id, ${p("paymentId")}, ${p("merchantId")}, ${p("payerId")}, ${p("deviceId")}, ${p("method")},
    ${p("deviceSignature")}, ${p("passkeyAssertion")}::jsonb
  from spent
  returning ${APPROVAL_COLUMNS}`,
);

/** The spent challenge's approval; null when the challenge was already spent (by this or another request). */
export async function spendChallengeForApproval(
  tx: Executor,
  row: Omit<typeof paymentApprovals.$inferInsert, "createdAt">,
): Promise<ApprovalRow | null> {
  const [inserted] = await spendAndRecord.run(tx, {
    ...row,
    passkeyAssertion: row.passkeyAssertion == null ? null : JSON.stringify(row.passkeyAssertion),
  });
  return inserted ? approvalOf(inserted) : null;
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
