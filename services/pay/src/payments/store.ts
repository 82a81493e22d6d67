import { and, desc, eq, gte, ilike, inArray, lt, lte, or, sql } from "drizzle-orm";
import type { Mode, PaymentStatus } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import { driverDate as date, driverDateOrNull as dateOrNull, namedStatement, onFoundRow } from "@mpay/service-kit";
import { answerValues, reserveKey, storeAnswer, type KeyScope } from "../http/idempotency.ts";
import { eventCtes, eventCtesIf } from "../webhooks/events.ts";
import { postingCtes } from "../ledger/service.ts";
import { payments } from "./schema.ts";
import { nextStatus } from "./state-machine.ts";

export type PaymentRow = typeof payments.$inferSelect;
export type NewPaymentRow = typeof payments.$inferInsert;

export async function insertPayment(db: Executor, row: NewPaymentRow): Promise<PaymentRow> {
  const [inserted] = await db.insert(payments).values(row).returning();
  return inserted!;
}

/** Scoped by merchant and mode: another merchant's id, or a live id with a test key, is simply not found. */
export async function findPayment(
  db: Executor,
  merchantId: string,
  mode: Mode,
  id: string,
): Promise<PaymentRow | null> {
  const rows = await db
    .select()
    .from(payments)
    .where(and(eq(payments.id, id), eq(payments.merchantId, merchantId), eq(payments.mode, mode)));
  return rows[0] ?? null;
}

/**
 * By id alone: for the payer's side, which is not scoped by merchant key. A named statement: every payment's
 * approval reads it (challenge, approve, authorize), so drizzle builds nothing for it (issue 11).
 */
export async function findPaymentById(db: Executor, id: string): Promise<PaymentRow | null> {
  const [row] = await paymentById.run(db, { id });
  return row ? paymentFromDriver(row) : null;
}

/** Several by id (the payer's receipts), in no particular order. */
export async function findPaymentsByIds(db: Executor, ids: readonly string[]): Promise<PaymentRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(payments)
    .where(inArray(payments.id, [...ids]));
}

/** Loads and locks the row until the transaction ends: concurrent captures and refunds queue here. */
export async function lockPayment(
  tx: Executor,
  id: string,
  scope?: { merchantId: string; mode: Mode },
): Promise<PaymentRow | null> {
  const where = scope
    ? and(eq(payments.id, id), eq(payments.merchantId, scope.merchantId), eq(payments.mode, scope.mode))
    : eq(payments.id, id);
  const rows = await tx.select().from(payments).where(where).for("update");
  return rows[0] ?? null;
}

export async function updatePayment(tx: Executor, id: string, changes: Partial<NewPaymentRow>): Promise<PaymentRow> {
  const [updated] = await tx
    .update(payments)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(payments.id, id))
    .returning();
  return updated!;
}

/** Attaches what another context made for the payment; not a change of its state, so `updatedAt` stays. */
export async function attachToPayment(
  db: Executor,
  id: string,
  changes: Pick<NewPaymentRow, "mandateId" | "sealedSharedDetails">,
): Promise<void> {
  await db.update(payments).set(changes).where(eq(payments.id, id));
}

export interface ListFilter {
  merchantId: string;
  mode: Mode;
  limit: number;
  startingAfter?: string;
  status?: PaymentStatus;
  orderId?: string;
  /** Created at or after this moment. */
  createdFrom?: Date;
  /** Created before this moment. */
  createdTo?: Date;
  /** A part of the order id or the item name, any case. */
  q?: string;
}

/** `q` as a LIKE pattern that matches it literally anywhere: `%`, `_` and `\` are escaped. */
export function containsPattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Newest first; ids are time-ordered, so the cursor is simply "ids below this one". Fetches one extra row for hasMore. */
export async function listPayments(db: Executor, f: ListFilter): Promise<{ rows: PaymentRow[]; hasMore: boolean }> {
  const conditions = [eq(payments.merchantId, f.merchantId), eq(payments.mode, f.mode)];
  if (f.startingAfter) conditions.push(lt(payments.id, f.startingAfter));
  if (f.status) conditions.push(eq(payments.status, f.status));
  if (f.orderId) conditions.push(eq(payments.orderId, f.orderId));
  if (f.createdFrom) conditions.push(gte(payments.createdAt, f.createdFrom));
  if (f.createdTo) conditions.push(lt(payments.createdAt, f.createdTo));
  if (f.q) {
    const pattern = containsPattern(f.q);
    conditions.push(or(ilike(payments.orderId, pattern), ilike(payments.itemName, pattern))!);
  }
  const rows = await db
    .select()
    .from(payments)
    .where(and(...conditions))
    .orderBy(desc(payments.id))
    .limit(f.limit + 1);
  return { rows: rows.slice(0, f.limit), hasMore: rows.length > f.limit };
}

/**
 * The next `limit` payments (ids) whose window passed at `now`, after the payment `after`: those awaiting approval
 * (by approval expiry) or authorized (by authorization expiry), each queue in its partial index's order. A pass
 * moves past what it saw, so a payment it leaves as it was (an approval in doubt) is not read again in that pass.
 * The cursor is the row's own expiry, read in the database (a JavaScript Date would lose its microseconds).
 */
export async function findExpired(
  db: Executor,
  now: Date,
  limit: number,
  queue: "approval" | "authorization",
  after: string | null,
): Promise<string[]> {
  const [status, expiresAt, column] =
    queue === "approval"
      ? (["requires_approval", payments.approvalExpiresAt, "approval_expires_at"] as const)
      : (["authorized", payments.authorizationExpiresAt, "authorization_expires_at"] as const);
  const rows = await db
    .select({ id: payments.id })
    .from(payments)
    .where(
      and(
        // A literal, as in the partial index's predicate, so the planner can use the index.
        sql`${payments.status} = ${sql.raw(`'${status}'`)}`,
        lte(expiresAt, now),
        after
          ? sql`(${expiresAt}, ${payments.id}) > (select c.${sql.raw(column)}, c.id from payments c where c.id = ${after})`
          : undefined,
      ),
    )
    .orderBy(expiresAt, payments.id)
    .limit(limit);
  return rows.map((r) => r.id);
}

// ---- The merchant API's hot paths as named statements (issue 11; service-kit named-statement.ts) ----

const p = (name: string) => sql.placeholder(name);

const paymentById = namedStatement<Record<string, unknown>>(
  "payments_by_id",
  sql`select * from payments where id = ${p("id")}`,
);

/** The columns a new payment sets; the rest take their defaults (amounts 0, reaches_issuer false, nulls). */
const NEW_PAYMENT = sql`(id, merchant_id, mode, status, amount, currency, capture_method, order_id, item_name,
  return_url, cancel_url, setup_future_usage, mandate_id, collect, approval_expires_at, created_at, updated_at)`;
const NEW_PAYMENT_VALUES = sql`${p("id")}, ${p("merchantId")}, ${p("mode")}, ${p("status")}, ${p("amount")}::int8,
  ${p("currency")}, ${p("captureMethod")}, ${p("orderId")}, ${p("itemName")}, ${p("returnUrl")}, ${p("cancelUrl")},
  ${p("setupFutureUsage")}::jsonb, ${p("mandateId")}, ${p("collect")}::jsonb, ${p("approvalExpiresAt")}::timestamptz,
  ${p("createdAt")}::timestamptz, ${p("createdAt")}::timestamptz`;

const createPlain = namedStatement<{ inserted: number }>(
  "payments_create",
  sql`insert into payments ${NEW_PAYMENT} values (${NEW_PAYMENT_VALUES}) returning 1 as inserted`,
);

/** The key (with its answer) and the payment in one autocommit statement: both are written, or neither. */
const createKeyed = namedStatement<{ inserted: number }>(
  "payments_create_keyed",
  sql`with reserved as (${reserveKey})
  insert into payments ${NEW_PAYMENT} select ${NEW_PAYMENT_VALUES} where exists (select from reserved)
  returning 1 as inserted`,
);

/**
 * The whole row of a payment made in Node (ids and timestamps included), as the database will hold it once
 * insertNewPayment wrote it: its view is known before the statement, so the answer is stored with it.
 */
export function newPaymentRow(
  row: Pick<
    PaymentRow,
    | "id"
    | "merchantId"
    | "mode"
    | "status"
    | "amount"
    | "currency"
    | "captureMethod"
    | "orderId"
    | "itemName"
    | "returnUrl"
    | "cancelUrl"
    | "setupFutureUsage"
    | "mandateId"
    | "collect"
    | "approvalExpiresAt"
    | "createdAt"
  >,
): PaymentRow {
  return {
    ...row,
    amountCaptured: 0,
    amountRefunded: 0,
    declineCode: null,
    issuerId: null,
    issuerAuthorizationCode: null,
    reachesIssuer: false,
    cardId: null,
    sealedSharedDetails: null,
    authorizationExpiresAt: null,
    authorizedAt: null,
    capturedAt: null,
    canceledAt: null,
    updatedAt: row.createdAt,
  };
}

/** Inserts a row made by newPaymentRow, with its key and answer when `scope` is keyed; false when the key was taken. */
export async function insertNewPayment(
  db: Executor,
  row: PaymentRow,
  scope: KeyScope,
  answer: { statusCode: number; body: string },
): Promise<boolean> {
  const values = {
    id: row.id,
    merchantId: row.merchantId,
    mode: row.mode,
    status: row.status,
    amount: row.amount,
    currency: row.currency,
    captureMethod: row.captureMethod,
    orderId: row.orderId,
    itemName: row.itemName,
    returnUrl: row.returnUrl,
    cancelUrl: row.cancelUrl,
    setupFutureUsage: row.setupFutureUsage === null ? null : JSON.stringify(row.setupFutureUsage),
    mandateId: row.mandateId,
    collect: row.collect === null ? null : JSON.stringify(row.collect),
    approvalExpiresAt: row.approvalExpiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
  };
  if (!scope.keyed) {
    await createPlain.run(db, values);
    return true;
  }
  const rows = await createKeyed.run(db, { ...values, ...scope.values, ...answerValues(answer) });
  return rows.length === 1;
}

/**
 * The guarded capture of the whole authorized amount: only a payment of this merchant and mode, authorized, not
 * past its authorization, and recorded without an issuer (one that reaches an issuer goes through the issuer
 * operation first: PaymentService.capture). Placeholders: id, merchantId, mode, now, and the transition the state
 * machine allows (fromStatus → toStatus).
 */
const captureGuarded = sql`update payments
  set status = ${p("toStatus")}, amount_captured = amount, captured_at = ${p("now")}::timestamptz, updated_at = ${p("now")}::timestamptz
  where id = ${p("id")} and ${onFoundRow(sql`merchant_id = ${p("merchantId")} and mode = ${p("mode")}`)} and status = ${p("fromStatus")}
    and not reaches_issuer
    and (authorization_expires_at is null or authorization_expires_at > ${p("now")}::timestamptz)`;

const capturePlain = namedStatement<Record<string, unknown>>(
  "payments_capture",
  sql`${captureGuarded} returning *, 1 as reserved`,
);

/** The key reserved (without its answer: the view is known after) and the capture, in one statement. */
const captureKeyed = namedStatement<Record<string, unknown>>(
  "payments_capture_keyed",
  sql`with reserved as (${reserveKey}), captured as (${captureGuarded} and exists (select from reserved) returning *)
  select (select count(*) from reserved)::int4 as reserved, captured.* from (select 1) one left join captured on true`,
);

/**
 * Captures the whole amount if the guard holds. `reserved` is false when the key was taken (nothing changed);
 * `row` is null when the guard did not hold (the caller finds out why).
 */
export async function captureAuthorized(
  tx: Executor,
  target: { id: string; merchantId: string; mode: Mode; now: Date },
  scope: KeyScope,
): Promise<{ reserved: boolean; row: PaymentRow | null }> {
  const values = {
    id: target.id,
    merchantId: target.merchantId,
    mode: target.mode,
    now: target.now.toISOString(),
    fromStatus: "authorized",
    toStatus: nextStatus("authorized", "capture"),
  };
  const rows = scope.keyed
    ? await captureKeyed.run(tx, { ...values, ...scope.values, keyStatus: null, keyResponse: null })
    : await capturePlain.run(tx, values);
  const raw = rows[0];
  if (!raw) return { reserved: true, row: null };
  return { reserved: Number(raw.reserved) === 1, row: raw.id === null ? null : paymentFromDriver(raw) };
}

const json = <T>(v: unknown): T | null =>
  v === null || v === undefined ? null : typeof v === "string" ? JSON.parse(v) : (v as T);

/** A `payments` row as a named statement reads it (snake_case, driver types) as drizzle would map it. */
export function paymentFromDriver(r: Record<string, unknown>): PaymentRow {
  return {
    id: r.id as string,
    merchantId: r.merchant_id as string,
    mode: r.mode as Mode,
    status: r.status as string,
    amount: Number(r.amount),
    currency: r.currency as string,
    amountCaptured: Number(r.amount_captured),
    amountRefunded: Number(r.amount_refunded),
    captureMethod: r.capture_method as string,
    orderId: r.order_id as string,
    itemName: r.item_name as string,
    returnUrl: r.return_url as string,
    cancelUrl: r.cancel_url as string,
    declineCode: (r.decline_code ?? null) as string | null,
    issuerId: (r.issuer_id ?? null) as string | null,
    issuerAuthorizationCode: (r.issuer_authorization_code ?? null) as string | null,
    reachesIssuer: r.reaches_issuer === true || r.reaches_issuer === "t",
    cardId: (r.card_id ?? null) as string | null,
    setupFutureUsage: json<PaymentRow["setupFutureUsage"] & object>(r.setup_future_usage),
    mandateId: (r.mandate_id ?? null) as string | null,
    collect: json<string[]>(r.collect),
    sealedSharedDetails: (r.sealed_shared_details ?? null) as string | null,
    approvalExpiresAt: date(r.approval_expires_at),
    authorizationExpiresAt: dateOrNull(r.authorization_expires_at),
    authorizedAt: dateOrNull(r.authorized_at),
    capturedAt: dateOrNull(r.captured_at),
    canceledAt: dateOrNull(r.canceled_at),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

/**
 * What a capture records besides the row, in one statement: the event and its deliveries (webhooks' eventCtes),
 * the ledger posting (ledger's postingCtes, four lines) and the key's answer (nothing without a key). The posting is
 * in the last statement of the capture's own work because it locks the merchant's balance slots.
 */
const captureRecorded = namedStatement(
  "payments_capture_recorded",
  sql`with ${eventCtes}, ${postingCtes(4)}, key_answer as (${storeAnswer}) select 1`,
);

/** Values: eventValues' and LedgerService.postingFor's, the key scope's and answerValues'. */
export async function recordCaptured(tx: Executor, values: Record<string, unknown>): Promise<void> {
  await captureRecorded.run(tx, values);
}

// ---- The issuer's decision on a payment awaiting approval (issue 11) ----

/**
 * The guard of every decision: the payment still awaits approval (a cancel or an expiry that came first wins, and
 * the decision writes nothing), and, for a decision recorded without an issuer, its approval window is still open at
 * `now` (an issuer checked the signed terms' expiry itself, so its late answer is not held to the window).
 */
// The guarded status is a parameter, never a literal: with `status = 'requires_approval'` in its text, PostgreSQL's
// generic plan of the prepared statement could take the partial index payments_approval_expiry (whose predicate the
// literal matches) and filter it by id, reading every payment awaiting approval on each decision (seen in `bench --
// api`: 480 rows per decision at 3k payments, and growing). Bound, it leaves the primary key as the only way in.
const awaitingApproval = sql`where id = ${p("id")} and status = ${p("fromStatus")}
    and (not ${p("checkWindow")}::boolean or approval_expires_at > ${p("now")}::timestamptz)`;

const approveUpdate = sql`update payments
  set status = ${p("toStatus")}, issuer_id = ${p("issuerId")}, issuer_authorization_code = ${p("authorizationCode")},
    reaches_issuer = ${p("reachesIssuer")}::boolean, card_id = ${p("cardId")}, authorized_at = ${p("now")}::timestamptz,
    authorization_expires_at = ${p("authorizationExpiresAt")}::timestamptz, updated_at = now()
  ${awaitingApproval}`;

const approveGuarded = namedStatement<Record<string, unknown>>("payments_approve", sql`${approveUpdate} returning *`);

/**
 * The approval, its event (with deliveries) and the hold's posting in ONE statement, for a caller that read the
 * payment before and so knows the event's payload before the statement: the event and the posting are written only
 * if the guarded UPDATE matched. Values: approveAwaiting's, eventValues' and LedgerService.postingFor's.
 */
const approveRecorded = namedStatement<Record<string, unknown>>(
  "payments_approve_recorded",
  sql`with decided as (${approveUpdate} returning *),
    ${eventCtesIf(sql`exists (select from decided)`)},
    ${postingCtes(2, sql`exists (select from decided)`)}
  select * from decided`,
);

const declineGuarded = namedStatement<Record<string, unknown>>(
  "payments_decline",
  sql`update payments
  set status = ${p("toStatus")}, decline_code = ${p("declineCode")}, issuer_id = ${p("issuerId")}, card_id = ${p("cardId")},
    updated_at = now()
  ${awaitingApproval} returning *`,
);

/** Approves a payment awaiting approval in one statement; null when the guard did not hold (nothing written). */
export async function approveAwaiting(
  tx: Executor,
  v: {
    id: string;
    issuerId: string;
    authorizationCode: string;
    reachesIssuer: boolean;
    cardId: string | null;
    checkWindow: boolean;
    now: Date;
    authorizationExpiresAt: Date;
  },
): Promise<PaymentRow | null> {
  const [row] = await approveGuarded.run(tx, approveValues(v));
  return row ? paymentFromDriver(row) : null;
}

/** approveAwaiting with what it records (`recorded`: the event's and the posting's values) in the same statement. */
export async function approveAwaitingRecorded(
  tx: Executor,
  v: Parameters<typeof approveAwaiting>[1],
  recorded: Record<string, unknown>,
): Promise<PaymentRow | null> {
  const [row] = await approveRecorded.run(tx, { ...approveValues(v), ...recorded });
  return row ? paymentFromDriver(row) : null;
}

function approveValues(v: Parameters<typeof approveAwaiting>[1]): Record<string, unknown> {
  return {
    ...v,
    fromStatus: "requires_approval",
    toStatus: nextStatus("requires_approval", "approve"),
    now: v.now.toISOString(),
    authorizationExpiresAt: v.authorizationExpiresAt.toISOString(),
  };
}

/** Declines a payment awaiting approval in one statement; null when the guard did not hold (nothing written). */
export async function declineAwaiting(
  tx: Executor,
  v: { id: string; issuerId: string; declineCode: string; cardId: string | null; now: Date },
): Promise<PaymentRow | null> {
  const [row] = await declineGuarded.run(tx, {
    ...v,
    fromStatus: "requires_approval",
    toStatus: nextStatus("requires_approval", "decline"),
    checkWindow: false,
    now: v.now.toISOString(),
  });
  return row ? paymentFromDriver(row) : null;
}

/** What an authorization records besides the row, in one statement: the event with its deliveries and the hold's posting (two lines). */
const authorizedRecorded = namedStatement(
  "payments_authorized_recorded",
  sql`with ${eventCtes}, ${postingCtes(2)} select 1`,
);

/** Values: eventValues' and LedgerService.postingFor's. */
export async function recordAuthorized(tx: Executor, values: Record<string, unknown>): Promise<void> {
  await authorizedRecorded.run(tx, values);
}
