/**
 * One issuer's tables (each issuer has a database, or a PostgreSQL schema, of its own; none reads another's).
 *
 * - `card_accounts`: the cardholder accounts. The issuer keeps the PAN (it is the issuer) but never the CVC,
 *   which it recomputes under its card verification key (keys/cvc.ts). `card_ref` is random, never derived from
 *   the PAN. Books: credit_limit − open_to_buy = open holds + captured − refunded (backoffice/books.ts).
 * - `device_bindings` / `passkey_bindings`: the device keys (and passkeys) a cardholder bound at enrollment;
 *   payments are verified against them. `revoked_devices`: keys unbound for good.
 * - `enrollments`: started enrollments waiting for their one-time code (a hash of it, never the code or the CVC).
 * - `enrollment_events`: failures and codes sent, per card (keyed hash of the PAN), device key and payer, for the
 *   enrollment limits.
 * - `payment_nonces`: `(kid, nonce)` of every verified payment until its terms expire: a repeat gets the first
 *   decision.
 * - `authorizations`: one row per payment id, the decision and the money it holds; `operations`: captures, voids
 *   and refunds, one row per operation id with its answer (idempotency), dated for the settlement file.
 * - `recurring_tokens`: card-on-file tokens (stored as SHA-256 hashes), each with the mandate terms the device
 *   signed (`consent`): the schedule every charge is held to. `recurring_token_periods`: per token and period, the
 *   charges approved and their total, claimed by each charge before it is approved.
 * - `test_inbox`: the simulator's "phones": one-time codes as an SMS would carry them (only when the inbox is on).
 *
 * No foreign keys: drizzle-kit writes them schema-qualified (`"public".…`), which would tie every issuer's schema
 * to `public`. The services keep the references.
 */
import { bigint, bigserial, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import type { EcPublicJwk, MandateTerms } from "@mpay/protocol";
import { limitSlotsTable } from "@mpay/service-kit";

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const money = (name: string) => bigint(name, { mode: "number" });

export const cardAccounts = pgTable("card_accounts", {
  cardRef: text("card_ref").primaryKey(),
  pan: text("pan").notNull().unique("card_accounts_pan"),
  brand: text("brand").notNull(),
  /** `YYYY-MM`. */
  expiryMonth: text("expiry_month").notNull(),
  holderName: text("holder_name").notNull(),
  /** E.164: where one-time codes go. */
  phone: text("phone").notNull(),
  currency: text("currency").notNull(),
  creditLimit: money("credit_limit").notNull(),
  openToBuy: money("open_to_buy").notNull(),
  /** active | lost_or_stolen | fraud_flagged | closed (expiry is read from expiry_month). */
  status: text("status").notNull(),
  createdAt: timestamptz("created_at").notNull().defaultNow(),
});

export const deviceBindings = pgTable(
  "device_bindings",
  {
    id: text("id").primaryKey(),
    cardRef: text("card_ref").notNull(),
    /** RFC 7638 thumbprint of `device_jwk`: the `kid` of everything the device signs. */
    deviceKid: text("device_kid").notNull(),
    deviceJwk: jsonb("device_jwk").$type<EcPublicJwk>().notNull(),
    payerRef: text("payer_ref").notNull(),
    boundAt: timestamptz("bound_at").notNull(),
    unboundAt: timestamptz("unbound_at"),
  },
  (t) => [uniqueIndex("device_bindings_card_kid").on(t.cardRef, t.deviceKid), index("device_bindings_kid").on(t.deviceKid)],
);

export const passkeyBindings = pgTable(
  "passkey_bindings",
  {
    cardRef: text("card_ref").notNull(),
    /** base64url credential id. */
    credentialId: text("credential_id").notNull(),
    /** The device binding it came with: unbinding that device unbinds it too. */
    bindingId: text("binding_id").notNull(),
    /** base64url COSE public key. */
    publicKey: text("public_key").notNull(),
    signCount: bigint("sign_count", { mode: "number" }).notNull().default(0),
    boundAt: timestamptz("bound_at").notNull(),
    unboundAt: timestamptz("unbound_at"),
  },
  (t) => [primaryKey({ name: "passkey_bindings_pkey", columns: [t.cardRef, t.credentialId] }), index("passkey_bindings_binding").on(t.bindingId)],
);

export const revokedDevices = pgTable("revoked_devices", {
  deviceKid: text("device_kid").primaryKey(),
  revokedAt: timestamptz("revoked_at").notNull(),
});

export const enrollments = pgTable(
  "enrollments",
  {
    id: text("id").primaryKey(),
    cardRef: text("card_ref").notNull(),
    payerRef: text("payer_ref").notNull(),
    deviceKid: text("device_kid").notNull(),
    deviceJwk: jsonb("device_jwk").$type<EcPublicJwk>().notNull(),
    passkeys: jsonb("passkeys").$type<Array<{ id: string; publicKey: string }>>().notNull(),
    /** base64url SHA-256 of `<enrollment id>|<code>`. */
    codeHash: text("code_hash").notNull(),
    /** pending | verified | failed */
    status: text("status").notNull(),
    wrongCodes: integer("wrong_codes").notNull().default(0),
    createdAt: timestamptz("created_at").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
    finishedAt: timestamptz("finished_at"),
  },
  (t) => [index("enrollments_card").on(t.cardRef)],
);

/**
 * The enrollment limits' slots (`failure`, `code_sent`) per `card:<keyed hash of the PAN>`, `device:<kid>` and
 * `payer:<payerRef>`, claimed before each check (enrollment/limits.ts, over service-kit's LimitSlots).
 */
export const enrollmentEvents = limitSlotsTable("enrollment_events");

export const paymentNonces = pgTable(
  "payment_nonces",
  {
    deviceKid: text("device_kid").notNull(),
    nonce: text("nonce").notNull(),
    paymentId: text("payment_id").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
  },
  (t) => [primaryKey({ name: "payment_nonces_pkey", columns: [t.deviceKid, t.nonce] }), index("payment_nonces_expires").on(t.expiresAt)],
);

export const authorizations = pgTable(
  "authorizations",
  {
    paymentId: text("payment_id").primaryKey(),
    /** The card the request named; may be unknown to this issuer for a `card_not_found` decline. */
    cardRef: text("card_ref"),
    /** device | recurring */
    kind: text("kind").notNull(),
    deviceKid: text("device_kid"),
    /** pin | passkey | recurring_token */
    authMethod: text("auth_method"),
    recurringTokenId: text("recurring_token_id"),
    merchantId: text("merchant_id").notNull(),
    merchantName: text("merchant_name").notNull(),
    amount: money("amount").notNull(),
    currency: text("currency").notNull(),
    captureMethod: text("capture_method").notNull(),
    /** approved | declined */
    decision: text("decision").notNull(),
    declineCode: text("decline_code"),
    authorizationCode: text("authorization_code"),
    /** approved | declined | captured | voided */
    status: text("status").notNull(),
    /** What this authorization still holds of the card's open-to-buy. */
    holdAmount: money("hold_amount").notNull(),
    amountCaptured: money("amount_captured").notNull().default(0),
    amountRefunded: money("amount_refunded").notNull().default(0),
    decidedAt: timestamptz("decided_at").notNull(),
  },
  (t) => [index("authorizations_card").on(t.cardRef)],
);

export const operations = pgTable(
  "operations",
  {
    operationId: text("operation_id").primaryKey(),
    paymentId: text("payment_id").notNull(),
    /** capture | void | refund */
    type: text("type").notNull(),
    amount: money("amount").notNull(),
    /** The answer sent the first time, sent again to a retry. */
    answer: jsonb("answer").$type<Record<string, unknown>>().notNull(),
    processedAt: timestamptz("processed_at").notNull(),
  },
  (t) => [index("operations_payment").on(t.paymentId), index("operations_processed").on(t.processedAt)],
);

export const recurringTokens = pgTable(
  "recurring_tokens",
  {
    id: text("id").primaryKey(),
    /** base64url SHA-256 of the token: a copy of this table charges nothing. */
    tokenHash: text("token_hash").notNull().unique("recurring_tokens_hash"),
    cardRef: text("card_ref").notNull(),
    merchantId: text("merchant_id").notNull(),
    merchantName: text("merchant_name").notNull(),
    maxAmount: money("max_amount").notNull(),
    currency: text("currency").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
    payerRef: text("payer_ref").notNull(),
    deviceKid: text("device_kid").notNull(),
    /**
     * The mandate terms the device signed (maxAmount, period, expiresAt…): charges are decided from these. Null
     * only for tokens issued before schedules were signed; those are declined (no consent to hold them to).
     */
    consent: jsonb("consent").$type<MandateTerms>(),
    createdAt: timestamptz("created_at").notNull(),
    revokedAt: timestamptz("revoked_at"),
  },
  (t) => [index("recurring_tokens_card").on(t.cardRef)],
);

/** What a token has charged in one period (mandate-period.ts): one row per token and period start (UTC). */
export const recurringTokenPeriods = pgTable(
  "recurring_token_periods",
  {
    tokenId: text("token_id").notNull(),
    periodStart: timestamptz("period_start").notNull(),
    /** Approved charges in the period. */
    charges: integer("charges").notNull(),
    /** Their amounts added up, in minor units. */
    total: money("total").notNull(),
  },
  (t) => [primaryKey({ name: "recurring_token_periods_pkey", columns: [t.tokenId, t.periodStart] })],
);

export const testInbox = pgTable(
  "test_inbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    phone: text("phone").notNull(),
    text: text("text").notNull(),
    code: text("code").notNull(),
    sentAt: timestamptz("sent_at").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
  },
  (t) => [index("test_inbox_phone").on(t.phone, t.sentAt)],
);

export * from "../witness/schema.ts";
