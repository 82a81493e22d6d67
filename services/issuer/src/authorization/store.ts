/** SQL for authorizations and the nonces of verified payments. */
import { and, desc, eq, gt, inArray, isNull, lt, sql } from "drizzle-orm";
import { cardAccounts } from "../cards/schema.ts";
import type { CardRow } from "../cards/store.ts";
import type { Executor } from "../db/client.ts";
import { deviceBindings } from "../devices/schema.ts";
import type { BindingRow } from "../devices/store.ts";
import { authorizations, paymentNonces } from "./schema.ts";

export type AuthorizationRow = typeof authorizations.$inferSelect;
export type NewAuthorization = typeof authorizations.$inferInsert;

export async function authorizationOf(db: Executor, paymentId: string): Promise<AuthorizationRow | null> {
  const [row] = await db.select().from(authorizations).where(eq(authorizations.paymentId, paymentId)).limit(1);
  return row ?? null;
}

export interface PaymentFacts {
  /** The first decision for this payment id, when there is one. */
  authorization: AuthorizationRow | null;
  card: CardRow | null;
  /** The device key's live binding to that card (null without a `deviceKid`, or when not bound, or unbound). */
  binding: BindingRow | null;
}

/**
 * What a device payment needs from the database before its transaction, in one round trip (issue 11): the first
 * decision for the payment id, the card account and the device's live binding to it. Each is looked up by its own
 * key, outer-joined to a one-row source, so any of them may be missing.
 */
export async function paymentFacts(
  db: Executor,
  paymentId: string,
  cardRef: string,
  deviceKid: string | null,
): Promise<PaymentFacts> {
  const [row] = await db
    .select({ authorization: authorizations, card: cardAccounts, binding: deviceBindings })
    .from(sql`(select 1) as "payment"`)
    .leftJoin(authorizations, eq(authorizations.paymentId, paymentId))
    .leftJoin(cardAccounts, eq(cardAccounts.cardRef, cardRef))
    .leftJoin(
      deviceBindings,
      and(
        eq(deviceBindings.cardRef, cardAccounts.cardRef),
        deviceKid === null ? sql`false` : eq(deviceBindings.deviceKid, deviceKid),
        isNull(deviceBindings.unboundAt),
      ),
    );
  return { authorization: row?.authorization ?? null, card: row?.card ?? null, binding: row?.binding ?? null };
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
 * that holds the nonce: `owner` itself when it was free, the first owner when it was already taken. A free nonce
 * (every honest payment) costs one statement: the insert's RETURNING says it was new; only a taken one is read.
 */
export async function claimNonce(
  tx: Executor,
  deviceKid: string,
  nonce: string,
  owner: string,
  expiresAt: Date,
): Promise<string> {
  const claimed = await tx
    .insert(paymentNonces)
    .values({ deviceKid, nonce, paymentId: owner, expiresAt })
    .onConflictDoNothing()
    .returning({ owner: paymentNonces.paymentId });
  if (claimed.length === 1) return owner;
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
