/** Payment approvals: the challenge a device signs, and the verified approval. */
import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "../db/columns.ts";
import { devices } from "../devices/schema.ts";
import { payers } from "../payers/schema.ts";
import { payments } from "../payments/schema.ts";

/**
 * A challenge to approve one payment: the exact terms (canonical JSON, RFC 8785) the device must sign, for one
 * payer and device, used at most once, before it expires.
 */
export const approvalChallenges = pgTable(
  "approval_challenges",
  {
    id: text("id").primaryKey(),
    paymentId: text("payment_id")
      .notNull()
      .references(() => payments.id),
    merchantId: text("merchant_id").notNull(),
    payerId: text("payer_id")
      .notNull()
      .references(() => payers.id),
    deviceId: text("device_id")
      .notNull()
      .references(() => devices.id),
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

/**
 * A verified approval: the device's JWS of the terms and how the payer was verified (PIN or passkey). It is also
 * what makes a payment the payer's: their receipts are the payments they approved (by payer, newest first).
 */
export const paymentApprovals = pgTable(
  "payment_approvals",
  {
    id: text("id").primaryKey(),
    challengeId: text("challenge_id")
      .notNull()
      .unique()
      .references(() => approvalChallenges.id),
    /** One approval per payment: each would become an authorization at the issuer (a second hold on the card). */
    paymentId: text("payment_id")
      .notNull()
      .unique()
      .references(() => payments.id),
    merchantId: text("merchant_id").notNull(),
    payerId: text("payer_id").notNull(),
    deviceId: text("device_id").notNull(),
    method: text("method").$type<"pin" | "passkey">().notNull(),
    deviceSignature: text("device_signature").notNull(),
    /** The passkey assertion (for the issuer to verify later), or null for a PIN approval. */
    passkeyAssertion: jsonb("passkey_assertion"),
    createdAt: createdAt(),
  },
  (t) => [index("payment_approvals_payer").on(t.payerId, t.paymentId)],
);
