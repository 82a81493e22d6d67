/** SQL for authorizations and the nonces of verified payments. */
import { and, desc, eq, gt, inArray, isNull, lt, sql } from "drizzle-orm";
import { driverDate as date, namedStatement } from "@mpay/service-kit";
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
  /**
   * The passkey's new sign counter, written whatever the decision (as the assertion was seen), but only forward:
   * one that does not move past the stored counter (unless both are 0) makes the decision `authentication_failed`.
   */
  passkeyCounter: { cardRef: string; credentialId: string; signCount: number } | null;
}

const p = (name: string) => sql.placeholder(name);

const AUTHORIZATION_COLUMNS = sql.raw(
  `"payment_id", "card_ref", "kind", "device_kid", "auth_method", "recurring_token_id", "merchant_id",
  "merchant_name", "amount", "currency", "billing_currency", "billing_amount", "fx_rate", "fx_fee_bps",
  "capture_method", "decision", "decline_code", "authorization_code", "status", "hold_amount", "amount_captured",
  "amount_refunded", "billing_captured", "billing_refunded", "decided_at"`,
);

/** An authorization as the driver reads it: int8 as text (node-postgres) or bigint, timestamps as text. */
interface RawAuthorization {
  payment_id: string;
  card_ref: string | null;
  kind: string;
  device_kid: string | null;
  auth_method: string | null;
  recurring_token_id: string | null;
  merchant_id: string;
  merchant_name: string;
  amount: unknown;
  currency: string;
  billing_currency: string | null;
  billing_amount: unknown;
  fx_rate: string | null;
  fx_fee_bps: number;
  capture_method: string;
  decision: string;
  decline_code: string | null;
  authorization_code: string | null;
  status: string;
  hold_amount: unknown;
  amount_captured: unknown;
  amount_refunded: unknown;
  billing_captured: unknown;
  billing_refunded: unknown;
  decided_at: unknown;
}

const money = (v: unknown): number => Number(v);

function authorizationOfRaw(r: RawAuthorization): AuthorizationRow {
  return {
    paymentId: r.payment_id,
    cardRef: r.card_ref,
    kind: r.kind,
    deviceKid: r.device_kid,
    authMethod: r.auth_method,
    recurringTokenId: r.recurring_token_id,
    merchantId: r.merchant_id,
    merchantName: r.merchant_name,
    amount: money(r.amount),
    currency: r.currency,
    billingCurrency: r.billing_currency,
    billingAmount: r.billing_amount === null ? null : money(r.billing_amount),
    fxRate: r.fx_rate,
    fxFeeBps: r.fx_fee_bps,
    captureMethod: r.capture_method,
    decision: r.decision,
    declineCode: r.decline_code,
    authorizationCode: r.authorization_code,
    status: r.status,
    holdAmount: money(r.hold_amount),
    amountCaptured: money(r.amount_captured),
    amountRefunded: money(r.amount_refunded),
    billingCaptured: money(r.billing_captured),
    billingRefunded: money(r.billing_refunded),
    decidedAt: date(r.decided_at),
  };
}

const declined = sql.raw(`(select decline from "outcome")`);

/**
 * The decision's statement, named (issue 11: built by drizzle's query builder on every payment, it was 17 % of the
 * issuer's busy time). One text serves every decision: without a hold `holdCard` is null, so "held" updates no
 * row and the outcome keeps the host's own decline; without a passkey counter `counterCard` is null, so
 * "counted" updates none and nothing waits on it.
 */
const decisionStatement = namedStatement<RawAuthorization>(
  "issuer_device_decision",
  sql`with "claimed_nonce" as (
    insert into "payment_nonces" ("device_kid", "nonce", "payment_id", "expires_at")
    values (${p("nonceKid")}, ${p("nonce")}, ${p("paymentId")}, ${p("nonceExpiresAt")}::timestamptz)
    on conflict do nothing
    returning "payment_id"
  ), "counted" as (
    update "passkey_bindings" set "sign_count" = ${p("signCount")}::bigint
    where "card_ref" = ${p("counterCard")}::text and "credential_id" = ${p("credentialId")}::text
      and ("sign_count" < ${p("signCount")}::bigint or ("sign_count" = 0 and ${p("signCount")}::bigint = 0))
    returning "card_ref"
  ), "held" as (
    update "card_accounts" set "open_to_buy" = "open_to_buy" - ${p("holdAmount")}::bigint
    where "card_ref" = ${p("holdCard")}::text
      and "open_to_buy" - ${p("holdAmount")}::bigint between 0 and "credit_limit"
      and exists (select 1 from "claimed_nonce")
      and (${p("counterCard")}::text is null or exists (select 1 from "counted"))
    returning "card_ref"
  ), "outcome" as (
    select case
      when not exists (select 1 from "claimed_nonce") then 'do_not_honor'
      when ${p("counterCard")}::text is not null and not exists (select 1 from "counted") then 'authentication_failed'
      when ${p("holdCard")}::text is not null and not exists (select 1 from "held") then 'insufficient_funds'
      else ${p("declineCode")}::text
    end as decline
  )
  insert into "authorizations" ("payment_id", "card_ref", "kind", "device_kid", "auth_method", "recurring_token_id",
    "merchant_id", "merchant_name", "amount", "currency", "billing_currency", "billing_amount", "fx_rate",
    "fx_fee_bps", "capture_method", "decision", "decline_code", "authorization_code", "status", "hold_amount",
    "decided_at")
  values (${p("paymentId")}, ${p("cardRef")}, ${p("kind")}, ${p("deviceKid")}, ${p("authMethod")},
    ${p("recurringTokenId")}, ${p("merchantId")}, ${p("merchantName")}, ${p("amount")}, ${p("currency")},
    ${p("billingCurrency")}, ${p("billingAmount")}, ${p("fxRate")}, ${p("fxFeeBps")}, ${p("captureMethod")},
    case when ${declined} is null then 'approved' else 'declined' end,
    ${declined},
    case when ${declined} is null then ${p("authorizationCode")}::text end,
    case when ${declined} is null then 'approved' else 'declined' end,
    case when ${declined} is null then ${p("rowHoldAmount")}::bigint else 0 end,
    ${p("decidedAt")})
  returning ${AUTHORIZATION_COLUMNS}`,
);

/**
 * Writes a device payment's decision in ONE statement (issue 11: it was begin, two nonce statements, the hold,
 * the insert and commit): data-modifying CTEs claim the nonce (ON CONFLICT DO NOTHING RETURNING: a row back means
 * it was free), take the hold only if the nonce was free, with the guarded UPDATE that claims open-to-buy
 * atomically (`open_to_buy - amount` between 0 and the limit), move the passkey counter forward, and the insert
 * records what came of it. One statement is one transaction: a concurrent request for the same payment makes the insert
 * fail with 23505 and nothing of this one stays (its nonce, hold and counter go with it).
 *
 * `row` is the decision as the host reached it before the claims: approved (with its hold and code) or declined
 * with its code. The claims can only turn it into a decline: `do_not_honor` for a taken nonce (before any other
 * decline, as the order of checks says), then `authentication_failed` for a passkey counter that did not move
 * forward, then `insufficient_funds` for a hold that found no room. The amounts captured and refunded start at
 * their defaults (0).
 *
 * The counter's guard is the WebAuthn rule the assertion was verified by (passkey-assertion.ts: the presented
 * counter must be greater than the stored one unless both are 0), applied again to the row as it is when written:
 * two approvals by one passkey verified against the same stored counter both pass the check, and without the
 * guard the later write could lower the counter below the newer one. The UPDATE re-reads a row a concurrent
 * statement changed before it writes, so of the two only an assertion whose counter is still ahead is honoured;
 * the other is refused as a replay would be, and takes no hold.
 */
export async function insertDeviceDecision(
  db: Executor,
  row: NewAuthorization,
  claims: DecisionClaims,
): Promise<AuthorizationRow> {
  const { nonce, hold, passkeyCounter } = claims;
  const [inserted] = await decisionStatement.run(db, {
    nonceKid: nonce.deviceKid,
    nonce: nonce.nonce,
    nonceExpiresAt: nonce.expiresAt.toISOString(),
    holdCard: hold?.cardRef ?? null,
    holdAmount: hold?.amount ?? 0,
    counterCard: passkeyCounter?.cardRef ?? null,
    credentialId: passkeyCounter?.credentialId ?? null,
    signCount: passkeyCounter?.signCount ?? 0,
    declineCode: row.declineCode ?? null,
    paymentId: row.paymentId,
    cardRef: row.cardRef ?? null,
    kind: row.kind,
    deviceKid: row.deviceKid ?? null,
    authMethod: row.authMethod ?? null,
    recurringTokenId: row.recurringTokenId ?? null,
    merchantId: row.merchantId,
    merchantName: row.merchantName,
    amount: row.amount,
    currency: row.currency,
    billingCurrency: row.billingCurrency ?? null,
    billingAmount: row.billingAmount ?? null,
    fxRate: row.fxRate ?? null,
    fxFeeBps: row.fxFeeBps ?? 0,
    captureMethod: row.captureMethod,
    authorizationCode: row.authorizationCode ?? null,
    rowHoldAmount: row.holdAmount,
    decidedAt: row.decidedAt.toISOString(),
  });
  if (!inserted) throw new Error("authorization insert returned nothing");
  return authorizationOfRaw(inserted);
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
