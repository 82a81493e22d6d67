/**
 * The pay server's tables. Every table that grows with traffic carries `merchant_id` (or the payer's id, later)
 * so that it can be distributed by it (DESIGN.md "Storage"). Money columns are int8 minor units; amounts are
 * capped per currency (packages/protocol currency.ts) so they stay exact as JS numbers.
 *
 * Append-only tables (ledger, audit) are also protected by triggers in a hand-written migration.
 */
import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import type { MandatePeriod } from "@mpay/protocol";

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
const money = (name: string) => bigint(name, { mode: "number" });

export const merchants = pgTable("merchants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** What payers see in the wallet; only this registered name is ever shown, never text from a request. */
  displayName: text("display_name").notNull(),
  /** Origins that returnUrl/cancelUrl may point to, e.g. `https://shop.example`. */
  allowedOrigins: jsonb("allowed_origins").$type<string[]>().notNull().default([]),
  createdAt: createdAt(),
});

export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    merchantId: text("merchant_id").notNull().references(() => merchants.id),
    mode: text("mode").$type<"test" | "live">().notNull(),
    kind: text("kind").$type<"secret" | "publishable">().notNull(),
    /** SHA-256 of the whole key: secret keys are never stored, only their hash. */
    keyHash: text("key_hash").notNull(),
    /** Publishable keys are public by design and stored as they are; null for secret keys. */
    publishableKey: text("publishable_key"),
    last4: text("last4").notNull(),
    createdAt: createdAt(),
    /** Set when the key is rolled: the old key keeps working until then, so a merchant can deploy the new one. */
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [uniqueIndex("api_keys_hash").on(t.keyHash), index("api_keys_merchant").on(t.merchantId, t.mode, t.kind)],
);

/** The Standard Webhooks signing secret of a merchant in one mode, sealed by the key provider. */
export const webhookSecrets = pgTable(
  "webhook_secrets",
  {
    merchantId: text("merchant_id").notNull().references(() => merchants.id),
    mode: text("mode").$type<"test" | "live">().notNull(),
    sealedSecret: text("sealed_secret").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.merchantId, t.mode] })],
);

export const payments = pgTable(
  "payments",
  {
    id: text("id").primaryKey(),
    merchantId: text("merchant_id").notNull().references(() => merchants.id),
    mode: text("mode").$type<"test" | "live">().notNull(),
    status: text("status").notNull(),
    amount: money("amount").notNull(),
    currency: text("currency").notNull(),
    amountCaptured: money("amount_captured").notNull().default(0),
    amountRefunded: money("amount_refunded").notNull().default(0),
    captureMethod: text("capture_method").notNull(),
    orderId: text("order_id").notNull(),
    itemName: text("item_name").notNull(),
    returnUrl: text("return_url").notNull(),
    cancelUrl: text("cancel_url").notNull(),
    declineCode: text("decline_code"),
    issuerId: text("issuer_id"),
    issuerAuthorizationCode: text("issuer_authorization_code"),
    /**
     * True when an issuer holds the authorization (it came through an issuer connector): captures, voids and refunds
     * then reach that issuer before they are recorded here. False only for decisions recorded without a network.
     */
    reachesIssuer: boolean("reaches_issuer").notNull().default(false),
    /** The vault card it was paid with (a device payment), or the recurring token's card. */
    cardId: text("card_id"),
    /**
     * The merchant asked for a card-on-file mandate with this payment: `{ maxAmount, period, expiresAt }` (unix
     * seconds). `period` is missing only on rows written before schedules existed; no mandate is offered for those.
     */
    setupFutureUsage: jsonb("setup_future_usage").$type<{ maxAmount: number; period?: MandatePeriod; expiresAt: number }>(),
    /** The mandate the payer gave with this payment, or the one this off-session payment charges. */
    mandateId: text("mandate_id"),
    /** Personal details the merchant asks the payer to share for this payment (`name`, `email`, `phone`, `shipping`). */
    collect: jsonb("collect").$type<string[]>(),
    /** What the payer chose to share, opened on the device: sealed by the key provider (AAD = the payment id). */
    sealedSharedDetails: text("sealed_shared_details"),
    approvalExpiresAt: timestamp("approval_expires_at", { withTimezone: true, mode: "date" }).notNull(),
    authorizationExpiresAt: timestamp("authorization_expires_at", { withTimezone: true, mode: "date" }),
    authorizedAt: timestamp("authorized_at", { withTimezone: true, mode: "date" }),
    capturedAt: timestamp("captured_at", { withTimezone: true, mode: "date" }),
    canceledAt: timestamp("canceled_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    index("payments_merchant_list").on(t.merchantId, t.mode, t.id),
    index("payments_merchant_order").on(t.merchantId, t.mode, t.orderId),
    index("payments_approval_expiry").on(t.approvalExpiresAt).where(sql`status = 'requires_approval'`),
    index("payments_authorization_expiry").on(t.authorizationExpiresAt).where(sql`status = 'authorized'`),
  ],
);

export const refunds = pgTable(
  "refunds",
  {
    id: text("id").primaryKey(),
    paymentId: text("payment_id").notNull().references(() => payments.id),
    merchantId: text("merchant_id").notNull(),
    mode: text("mode").$type<"test" | "live">().notNull(),
    amount: money("amount").notNull(),
    currency: text("currency").notNull(),
    reason: text("reason"),
    status: text("status").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("refunds_payment").on(t.paymentId)],
);

export const ledgerTransactions = pgTable(
  "ledger_transactions",
  {
    id: text("id").primaryKey(),
    merchantId: text("merchant_id").notNull(),
    mode: text("mode").$type<"test" | "live">().notNull(),
    kind: text("kind").notNull(),
    paymentId: text("payment_id"),
    refundId: text("refund_id"),
    createdAt: createdAt(),
  },
  (t) => [index("ledger_transactions_payment").on(t.paymentId)],
);

/** Signed amounts: a debit is positive, a credit negative, so a balanced transaction sums to zero per currency. */
export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    transactionId: text("transaction_id").notNull().references(() => ledgerTransactions.id),
    merchantId: text("merchant_id").notNull(),
    account: text("account").notNull(),
    currency: text("currency").notNull(),
    amount: money("amount").notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("ledger_entries_transaction").on(t.transactionId), index("ledger_entries_account").on(t.account, t.currency)],
);

/**
 * An account's balance is the sum of its slot rows. Each posting updates one randomly chosen slot, so concurrent
 * captures of one merchant rarely wait for each other's row lock (one row per account made every capture of a
 * merchant queue behind the previous one's commit; see docs/benchmarks.md).
 */
export const ledgerBalances = pgTable(
  "ledger_balances",
  {
    account: text("account").notNull(),
    currency: text("currency").notNull(),
    slot: smallint("slot").notNull().default(0),
    merchantId: text("merchant_id").notNull(),
    balance: money("balance").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.account, t.currency, t.slot] }), index("ledger_balances_merchant").on(t.merchantId)],
);

export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    merchantId: text("merchant_id").notNull(),
    mode: text("mode").$type<"test" | "live">().notNull(),
    route: text("route").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    statusCode: integer("status_code"),
    /** The first answer's exact bytes, so a replay is byte-for-byte the same (jsonb would reorder keys). */
    response: text("response"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.merchantId, t.mode, t.route, t.key] }), index("idempotency_keys_created").on(t.createdAt)],
);

export const events = pgTable(
  "events",
  {
    id: text("id").primaryKey(),
    merchantId: text("merchant_id").notNull(),
    mode: text("mode").$type<"test" | "live">().notNull(),
    type: text("type").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("events_merchant_list").on(t.merchantId, t.mode, t.id)],
);

export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    merchantId: text("merchant_id").notNull().references(() => merchants.id),
    mode: text("mode").$type<"test" | "live">().notNull(),
    url: text("url").notNull(),
    /** Event types this endpoint receives; `["*"]` for all. */
    enabledEvents: jsonb("enabled_events").$type<string[]>().notNull(),
    status: text("status").$type<"enabled" | "disabled">().notNull(),
    /** `whpk_…` Ed25519 public key when the endpoint asked for v1a signatures. */
    v1aPublicKey: text("v1a_public_key"),
    v1aSealedPrivateKey: text("v1a_sealed_private_key"),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_endpoints_merchant").on(t.merchantId, t.mode)],
);

/** The outbox: one row per (event, endpoint), written in the transaction of the change, holding delivery state. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id").notNull().references(() => events.id),
    endpointId: text("endpoint_id").notNull().references(() => webhookEndpoints.id),
    merchantId: text("merchant_id").notNull(),
    status: text("status").$type<"pending" | "succeeded" | "failed">().notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** While a worker sends, the row is leased; a worker killed mid-send leaves a lease that simply runs out. */
    leaseUntil: timestamp("lease_until", { withTimezone: true, mode: "date" }),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    deliveredAt: timestamp("delivered_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [
    index("webhook_deliveries_due").on(t.nextAttemptAt).where(sql`status = 'pending'`),
    index("webhook_deliveries_endpoint").on(t.endpointId, t.status),
  ],
);

export const auditLog = pgTable("audit_log", {
  /** The entry's identity; it is part of the hashed fields (a separate id column would not be). */
  seq: bigint("seq", { mode: "number" }).primaryKey(),
  at: text("at").notNull(),
  actor: text("actor").notNull(),
  action: text("action").notNull(),
  target: text("target"),
  data: jsonb("data").$type<Record<string, unknown>>().notNull(),
  prevHash: text("prev_hash").notNull(),
  hash: text("hash").notNull(),
});

/**
 * Every head the key provider signed, one per append (append-only, like the log): `size` entries, the newest one's
 * `hash`, signed as a JWS (`jws`, packages/protocol audit.ts) under the audit key `kid`. The columns repeat what
 * the JWS states, for queries; verification reads the JWS only.
 */
export const auditSignedHeads = pgTable(
  "audit_signed_heads",
  {
    chain: text("chain").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    hash: text("hash").notNull(),
    signedAt: timestamp("signed_at", { withTimezone: true, mode: "date" }).notNull(),
    kid: text("kid").notNull(),
    jws: text("jws").notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.size] })],
);

/**
 * Legacy: the newest head of each chain as it was before heads were signed, MACed by the key provider. No longer
 * written; its MAC is checked once, by the first append after the upgrade, before the first signed head extends it.
 */
export const auditHeads = pgTable("audit_heads", {
  chain: text("chain").primaryKey(),
  seq: bigint("seq", { mode: "number" }).notNull(),
  hash: text("hash").notNull(),
  tag: text("tag").notNull(),
  keyVersion: integer("key_version").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/** A payer: created on first messenger sign-in, linked to the messenger's stable subject. No other sign-up exists. */
export const payers = pgTable("payers", {
  id: text("id").primaryKey(),
  messengerSubject: text("messenger_subject").notNull().unique(),
  displayName: text("display_name").notNull(),
  phoneNumber: text("phone_number"),
  createdAt: createdAt(),
});

/** One sign-in in progress: the OIDC state, nonce and PKCE verifier, single-use, for a few minutes. */
export const payerSignIns = pgTable("payer_sign_ins", {
  state: text("state").primaryKey(),
  nonce: text("nonce").notNull(),
  codeVerifier: text("code_verifier").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  createdAt: createdAt(),
});

/** Payer sessions: an opaque bearer token of 256 bits, stored only as its SHA-256. */
export const payerSessions = pgTable(
  "payer_sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    payerId: text("payer_id").notNull().references(() => payers.id),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("payer_sessions_payer").on(t.payerId)],
);

/**
 * A payer's devices: each holds an ECDSA P-256 key made on the device (non-extractable there); the server keeps
 * the public key. A device is `pending` during the waiting period after another device approved it (or after a
 * recovery without the PIN), `active` once it may pay, `revoked` or `canceled` for good. A recovery without the
 * PIN schedules the revocation of every other device for the moment it takes effect (`revokeAt`, `revokeScheduledBy`).
 */
export const devices = pgTable(
  "devices",
  {
    id: text("id").primaryKey(),
    payerId: text("payer_id").notNull().references(() => payers.id),
    /** RFC 7638 thumbprint of the public key: the `kid` of the device's signatures. */
    keyThumbprint: text("key_thumbprint").notNull().unique(),
    publicKeyJwk: jsonb("public_key_jwk").$type<{ kty: "EC"; crv: "P-256"; x: string; y: string }>().notNull(),
    name: text("name").notNull(),
    status: text("status").$type<"pending" | "active" | "revoked" | "canceled">().notNull(),
    /** When a pending device starts to count as active (the end of the waiting period). */
    activatesAt: timestamp("activates_at", { withTimezone: true, mode: "date" }).notNull(),
    /**
     * How the binding was trusted: `first-sign-in`; `device:<id>+pin` (another device's word and the PIN);
     * `issuer:<id>` (a recovery on the issuer's cardholder check) or `issuer:<id>+pin` (with the PIN as well).
     */
    approvedBy: text("approved_by").notNull(),
    /** When a pending recovery that will revoke this device takes effect; past it, the device counts as revoked. */
    revokeAt: timestamp("revoke_at", { withTimezone: true, mode: "date" }),
    /** The recovering device whose waiting period set `revokeAt` (cancelling that recovery clears it). */
    revokeScheduledBy: text("revoke_scheduled_by"),
    createdAt: createdAt(),
    endedAt: timestamp("ended_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [index("devices_payer").on(t.payerId), index("devices_revoke_due").on(t.revokeAt).where(sql`revoke_at is not null and status in ('active', 'pending')`)],
);

/**
 * Single-use nonces for device statements (issue 7): the server hands one out, the device signs it into the
 * statement, and verifying the statement deletes it, so a statement is good once, not for its five minutes.
 */
export const statementNonces = pgTable(
  "statement_nonces",
  {
    nonce: text("nonce").primaryKey(),
    payerId: text("payer_id").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("statement_nonces_payer").on(t.payerId, t.createdAt), index("statement_nonces_expiry").on(t.expiresAt)],
);

/**
 * Secrets the server needs in clear at run time but must not keep in clear at rest (the OPAQUE server setup, whose
 * OPRF seed is what makes PIN records uncrackable offline): stored here only sealed by the key provider, so every
 * pay-server process shares one value and a dump without the provider's key is useless.
 */
export const providerSecrets = pgTable("provider_secrets", {
  name: text("name").primaryKey(),
  sealed: text("sealed").notNull(),
  createdAt: createdAt(),
});

/**
 * The card network's certificates of this server's PIN-statement keys (`mpay statement-key install`; issue 7,
 * hole 6). Public, so stored in clear; the keys themselves stay in provider_secrets. Every statement carries the
 * certificate of the key that signed it, and issuers accept no other; two rows (old and new key) during a rollover.
 */
export const statementKeyCertificates = pgTable(
  "statement_key_certificates",
  {
    /** base64url SHA-256 of the certificate: installing the same one twice is one row. */
    id: text("id").primaryKey(),
    /** The certified key's RFC 7638 thumbprint. */
    kid: text("kid").notNull(),
    acquirerId: text("acquirer_id").notNull(),
    certificate: text("certificate").notNull(),
    notBefore: timestamp("not_before", { withTimezone: true, mode: "date" }).notNull(),
    notAfter: timestamp("not_after", { withTimezone: true, mode: "date" }).notNull(),
    installedAt: createdAt(),
  },
  (t) => [index("statement_key_certificates_kid").on(t.kid)],
);

/** A payer's payment PIN: the OPAQUE registration record (the server never sees the PIN) and the try counter. */
export const payerPins = pgTable("payer_pins", {
  payerId: text("payer_id").primaryKey().references(() => payers.id),
  registrationRecord: text("registration_record").notNull(),
  /** Tries counted at login start and not yet cleared by a verified finish; 5 means locked. */
  failedTries: integer("failed_tries").notNull().default(0),
  lockedAt: timestamp("locked_at", { withTimezone: true, mode: "date" }),
  /**
   * The record a PIN change replaced, kept for the waiting period: a recovery with the card may prove the PIN as the
   * payer knew it (a thief who saw the PIN and changed it does not keep the account), and then restores it.
   */
  previousRecord: text("previous_record"),
  previousUntil: timestamp("previous_until", { withTimezone: true, mode: "date" }),
  createdAt: createdAt(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/** The one outstanding PIN login of a payer: the server's OPAQUE state, sealed, single-use, short-lived. */
export const pinLogins = pgTable("pin_logins", {
  payerId: text("payer_id").primaryKey().references(() => payers.id),
  loginId: text("login_id").notNull().unique(),
  sealedState: text("sealed_state").notNull(),
  /** What a success may be used for: `pin-check`, `pin-change`, or `approval:<challengeId>`. */
  purpose: text("purpose").notNull(),
  /** True when the login runs against `payer_pins.previous_record` (a recovery's proof of the PIN before a change). */
  againstPrevious: boolean("against_previous").notNull().default(false),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  createdAt: createdAt(),
});

/** A payer's passkeys (WebAuthn, user verification required): the biometric alternative to the PIN. */
export const passkeys = pgTable(
  "passkeys",
  {
    /** The credential id, base64url. */
    id: text("id").primaryKey(),
    payerId: text("payer_id").notNull().references(() => payers.id),
    /** COSE public key, base64url. */
    publicKey: text("public_key").notNull(),
    signCount: bigint("sign_count", { mode: "number" }).notNull().default(0),
    transports: jsonb("transports").$type<string[]>().notNull().default([]),
    deviceType: text("device_type").notNull(),
    backedUp: integer("backed_up").notNull().default(0),
    createdAt: createdAt(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [index("passkeys_payer").on(t.payerId)],
);

/** WebAuthn ceremony challenges issued by the server (registration), single-use and short-lived. */
export const passkeyChallenges = pgTable("passkey_challenges", {
  challenge: text("challenge").primaryKey(),
  payerId: text("payer_id").notNull().references(() => payers.id),
  purpose: text("purpose").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  createdAt: createdAt(),
});

/**
 * A challenge to approve one payment: the exact terms (canonical JSON, RFC 8785) the device must sign, for one
 * payer and device, used at most once, before it expires.
 */
export const approvalChallenges = pgTable(
  "approval_challenges",
  {
    id: text("id").primaryKey(),
    paymentId: text("payment_id").notNull().references(() => payments.id),
    merchantId: text("merchant_id").notNull(),
    payerId: text("payer_id").notNull().references(() => payers.id),
    deviceId: text("device_id").notNull().references(() => devices.id),
    /** The vault card the terms name (its issuer is `aud`, its reference `cardRef`). */
    cardId: text("card_id"),
    terms: text("terms").notNull(),
    /** Canonical JSON of the card-on-file mandate the payer is asked for with this payment, if any. */
    mandateTerms: text("mandate_terms"),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
  },
  (t) => [index("approval_challenges_payment").on(t.paymentId)],
);

/** A verified approval: the device's JWS of the terms and how the payer was verified (PIN or passkey). */
export const paymentApprovals = pgTable("payment_approvals", {
  id: text("id").primaryKey(),
  challengeId: text("challenge_id").notNull().unique().references(() => approvalChallenges.id),
  /** One approval per payment: each would become an authorization at the issuer (a second hold on the card). */
  paymentId: text("payment_id").notNull().unique().references(() => payments.id),
  merchantId: text("merchant_id").notNull(),
  payerId: text("payer_id").notNull(),
  deviceId: text("device_id").notNull(),
  method: text("method").$type<"pin" | "passkey">().notNull(),
  deviceSignature: text("device_signature").notNull(),
  /** The passkey assertion (for the issuer to verify later), or null for a PIN approval. */
  passkeyAssertion: jsonb("passkey_assertion"),
  createdAt: createdAt(),
});

/**
 * A PIN reset (the payer forgot the PIN, or it is locked), asked from a bound device with the issuer's cardholder
 * check: `verification_required` until the issuer's one-time code is verified (`cardholderCheckId` is the
 * card_enrollments row of that check), then `pending` for the waiting period, announced, cancellable with a PIN
 * proof; then it replaces the PIN and lifts a lock.
 */
export const pinResets = pgTable(
  "pin_resets",
  {
    id: text("id").primaryKey(),
    payerId: text("payer_id").notNull().references(() => payers.id),
    registrationRecord: text("registration_record").notNull(),
    requestedBy: text("requested_by").notNull(),
    status: text("status").$type<"verification_required" | "pending" | "applied" | "canceled">().notNull(),
    cardholderCheckId: text("cardholder_check_id"),
    activatesAt: timestamp("activates_at", { withTimezone: true, mode: "date" }).notNull(),
    createdAt: createdAt(),
    endedAt: timestamp("ended_at", { withTimezone: true, mode: "date" }),
  },
  // One pending reset per payer, whatever the races: the payer's devices must see every reset that could apply.
  (t) => [index("pin_resets_payer").on(t.payerId, t.status), uniqueIndex("pin_resets_one_pending").on(t.payerId).where(sql`status = 'pending'`)],
);

// The key providers keep their tables beside their code; they are part of the one schema and migration history.
export * from "../keys/schema.ts";
export * from "../vault/schema.ts";
export * from "../issuer-operations/schema.ts";
export * from "../mandates/schema.ts";
export * from "../announcements/schema.ts";
