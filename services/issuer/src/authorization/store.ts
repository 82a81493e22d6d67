/** SQL for authorizations and the nonces of verified payments. */
import { and, desc, eq, gt, inArray, isNull, lt, sql, type SQL, type WithSubquery } from "drizzle-orm";
import { cardAccounts } from "../cards/schema.ts";
import type { CardRow } from "../cards/store.ts";
import type { Executor } from "../db/client.ts";
import { deviceBindings, passkeyBindings } from "../devices/schema.ts";
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

/** `paymentFacts` as a prepared statement per database handle: built once, and named on PostgreSQL. */
function prepareFacts(db: Executor) {
  return db
    .select({ authorization: authorizations, card: cardAccounts, binding: deviceBindings })
    .from(sql`(select 1) as "payment"`)
    .leftJoin(authorizations, eq(authorizations.paymentId, sql.placeholder("paymentId")))
    .leftJoin(cardAccounts, eq(cardAccounts.cardRef, sql.placeholder("cardRef")))
    .leftJoin(
      deviceBindings,
      and(
        eq(deviceBindings.cardRef, cardAccounts.cardRef),
        eq(deviceBindings.deviceKid, sql.placeholder("deviceKid")),
        isNull(deviceBindings.unboundAt),
      ),
    )
    .prepare("issuer_payment_facts");
}
const preparedFacts = new WeakMap<Executor, ReturnType<typeof prepareFacts>>();

/**
 * What a device payment needs from the database before its decision, in one round trip (issue 11): the first
 * decision for the payment id, the card account and the device's live binding to it. Each is looked up by its own
 * key, outer-joined to a one-row source, so any of them may be missing. Without a `deviceKid` (the envelope did
 * not open) no binding is found: a kid is never empty.
 */
export async function paymentFacts(
  db: Executor,
  paymentId: string,
  cardRef: string,
  deviceKid: string | null,
): Promise<PaymentFacts> {
  let prepared = preparedFacts.get(db);
  if (!prepared) {
    prepared = prepareFacts(db);
    preparedFacts.set(db, prepared);
  }
  const [row] = await prepared.execute({ paymentId, cardRef, deviceKid: deviceKid ?? "" });
  return { authorization: row?.authorization ?? null, card: row?.card ?? null, binding: row?.binding ?? null };
}

/** What a device payment's decision claims as it is written (`insertDeviceDecision`). */
export interface DecisionClaims {
  /** The device's one-time nonce, for this payment: taken already, the decision is `do_not_honor`. */
  nonce: { deviceKid: string; nonce: string; expiresAt: Date };
  /** The hold an approval takes (the row is written approved): no room left, the decision is `insufficient_funds`. */
  hold: { cardRef: string; amount: number } | null;
  /** The passkey's new sign counter, written whatever the decision (as the assertion was seen). */
  passkeyCounter: { cardRef: string; credentialId: string; signCount: number } | null;
}

/**
 * Writes a device payment's decision in ONE statement (issue 11: it was begin, two nonce statements, the hold,
 * the insert and commit): data-modifying CTEs claim the nonce (ON CONFLICT DO NOTHING RETURNING: a row back means
 * it was free), take the hold only if the nonce was free, with the guarded UPDATE that claims open-to-buy
 * atomically (`open_to_buy - amount` between 0 and the limit), move the passkey counter, and the insert records
 * what came of it. One statement is one transaction: a concurrent request for the same payment makes the insert
 * fail with 23505 and nothing of this one stays (its nonce, hold and counter go with it).
 *
 * `row` is the decision as the host reached it before the claims: approved (with its hold and code) or declined
 * with its code. The claims can only turn it into a decline: `do_not_honor` for a taken nonce (before any other
 * decline, as the order of checks says), then `insufficient_funds` for a hold that found no room.
 */
export async function insertDeviceDecision(
  db: Executor,
  row: NewAuthorization,
  claims: DecisionClaims,
): Promise<AuthorizationRow> {
  const { nonce, hold, passkeyCounter } = claims;
  const claimedNonce = db.$with("claimed_nonce").as(
    db
      .insert(paymentNonces)
      .values({ ...nonce, paymentId: row.paymentId })
      .onConflictDoNothing()
      .returning({ nonceOwner: paymentNonces.paymentId }),
  );
  const nonceFree = sql`exists (select 1 from "claimed_nonce")`;
  const ctes: WithSubquery[] = [claimedNonce];
  let decline: SQL = sql`case when not ${nonceFree} then 'do_not_honor' else ${row.declineCode ?? null}::text end`;
  if (hold) {
    const held = db.$with("held").as(
      db
        .update(cardAccounts)
        .set({ openToBuy: sql`${cardAccounts.openToBuy} - ${hold.amount}` })
        .where(
          sql`${cardAccounts.cardRef} = ${hold.cardRef} and ${cardAccounts.openToBuy} - ${hold.amount} between 0 and ${cardAccounts.creditLimit} and ${nonceFree}`,
        )
        .returning({ heldCard: cardAccounts.cardRef }),
    );
    ctes.push(held);
    decline = sql`case when not ${nonceFree} then 'do_not_honor' when not exists (select 1 from "held") then 'insufficient_funds' end`;
  }
  if (passkeyCounter) {
    ctes.push(
      db.$with("counted").as(
        db
          .update(passkeyBindings)
          .set({ signCount: passkeyCounter.signCount })
          .where(
            and(
              eq(passkeyBindings.cardRef, passkeyCounter.cardRef),
              eq(passkeyBindings.credentialId, passkeyCounter.credentialId),
            ),
          )
          .returning({ countedCard: passkeyBindings.cardRef }),
      ),
    );
  }
  const outcome = db.$with("outcome", { decline: sql<string | null>`decline` }).as(sql`select ${decline} as decline`);
  const declined = sql`(select decline from "outcome")`;
  const [inserted] = await db
    .with(...ctes, outcome)
    .insert(authorizations)
    .values({
      ...row,
      decision: sql`case when ${declined} is null then 'approved' else 'declined' end`,
      status: sql`case when ${declined} is null then 'approved' else 'declined' end`,
      declineCode: declined,
      authorizationCode: sql`case when ${declined} is null then ${row.authorizationCode ?? null}::text end`,
      holdAmount: sql`case when ${declined} is null then ${row.holdAmount}::bigint else 0 end`,
    })
    .returning();
  if (!inserted) throw new Error("authorization insert returned nothing");
  return inserted;
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
