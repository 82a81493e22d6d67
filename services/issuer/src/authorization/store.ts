/** SQL for authorizations and the nonces of verified payments. */
import { and, desc, eq, gt, inArray, lt, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { authorizations, paymentNonces } from "./schema.ts";

export type AuthorizationRow = typeof authorizations.$inferSelect;
export type NewAuthorization = typeof authorizations.$inferInsert;

export async function authorizationOf(db: Executor, paymentId: string): Promise<AuthorizationRow | null> {
  const [row] = await db.select().from(authorizations).where(eq(authorizations.paymentId, paymentId)).limit(1);
  return row ?? null;
}

/** The authorization, locked until the transaction ends (captures, voids and refunds of one payment queue). */
export async function lockAuthorization(tx: Executor, paymentId: string): Promise<AuthorizationRow | null> {
  const [row] = await tx
    .select()
    .from(authorizations)
    .where(eq(authorizations.paymentId, paymentId))
    .for("update")
    .limit(1);
  return row ?? null;
}

/** Inserts the decision; a concurrent request for the same payment that committed first makes this throw 23505. */
export async function insertAuthorization(tx: Executor, row: NewAuthorization): Promise<AuthorizationRow> {
  const [inserted] = await tx.insert(authorizations).values(row).returning();
  if (!inserted) throw new Error("authorization insert returned nothing");
  return inserted;
}

export async function updateAuthorization(
  tx: Executor,
  paymentId: string,
  changes: Partial<NewAuthorization>,
): Promise<AuthorizationRow> {
  const [row] = await tx.update(authorizations).set(changes).where(eq(authorizations.paymentId, paymentId)).returning();
  if (!row) throw new Error("authorization vanished");
  return row;
}

/** Approved authorizations of a card that still hold money. */
export async function openHoldsOf(db: Executor, cardRef: string): Promise<AuthorizationRow[]> {
  return db
    .select()
    .from(authorizations)
    .where(and(eq(authorizations.cardRef, cardRef), gt(authorizations.holdAmount, 0)))
    .orderBy(authorizations.decidedAt);
}

/** Per card: open holds, captured and refunded of its approved authorizations, in the card's currency. */
export async function totalsByCard(
  db: Executor,
  cardRefs?: string[],
): Promise<Map<string, { holds: number; captured: number; refunded: number }>> {
  const rows = await db
    .select({
      cardRef: authorizations.cardRef,
      holds: sql<string>`coalesce(sum(${authorizations.holdAmount}), 0)`,
      captured: sql<string>`coalesce(sum(${authorizations.billingCaptured}), 0)`,
      refunded: sql<string>`coalesce(sum(${authorizations.billingRefunded}), 0)`,
    })
    .from(authorizations)
    .where(
      and(eq(authorizations.decision, "approved"), cardRefs ? inArray(authorizations.cardRef, cardRefs) : undefined),
    )
    .groupBy(authorizations.cardRef);
  const totals = new Map<string, { holds: number; captured: number; refunded: number }>();
  for (const row of rows)
    if (row.cardRef)
      totals.set(row.cardRef, {
        holds: Number(row.holds),
        captured: Number(row.captured),
        refunded: Number(row.refunded),
      });
  return totals;
}

/** A card's authorizations, newest first, at most `limit` (the back office's statement of the card). */
export async function authorizationsOfCard(db: Executor, cardRef: string, limit: number): Promise<AuthorizationRow[]> {
  return db
    .select()
    .from(authorizations)
    .where(eq(authorizations.cardRef, cardRef))
    .orderBy(desc(authorizations.decidedAt), desc(authorizations.paymentId))
    .limit(limit);
}

/**
 * Records `(kid, nonce)` for `owner` (a payment id, or `mandate:<token id>`) until `expiresAt`. Returns the owner
 * that holds the nonce: `owner` itself when it was free, the first owner when it was already taken.
 */
export async function claimNonce(
  tx: Executor,
  deviceKid: string,
  nonce: string,
  owner: string,
  expiresAt: Date,
): Promise<string> {
  await tx.insert(paymentNonces).values({ deviceKid, nonce, paymentId: owner, expiresAt }).onConflictDoNothing();
  const [row] = await tx
    .select({ owner: paymentNonces.paymentId })
    .from(paymentNonces)
    .where(and(eq(paymentNonces.deviceKid, deviceKid), eq(paymentNonces.nonce, nonce)))
    .limit(1);
  return row?.owner ?? owner;
}

/** Deletes nonces whose terms have expired: such terms are refused for their time window anyway. */
export async function sweepNonces(db: Executor, now: Date): Promise<number> {
  const deleted = await db
    .delete(paymentNonces)
    .where(lt(paymentNonces.expiresAt, new Date(now.getTime() - 60_000)))
    .returning({ nonce: paymentNonces.nonce });
  return deleted.length;
}
