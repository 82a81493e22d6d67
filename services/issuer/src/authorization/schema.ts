/**
 * The authorizations' tables:
 * - `payment_nonces`: `(kid, nonce)` of every verified payment until its terms expire: a repeat gets the first
 *   decision.
 * - `authorizations`: one row per payment id, the decision and the money it holds (captures, voids and refunds
 *   update it: operations/store.ts).
 */
import { index, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { money, timestamptz } from "../db/columns.ts";

export const paymentNonces = pgTable(
  "payment_nonces",
  {
    deviceKid: text("device_kid").notNull(),
    nonce: text("nonce").notNull(),
    paymentId: text("payment_id").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "payment_nonces_pkey", columns: [t.deviceKid, t.nonce] }),
    index("payment_nonces_expires").on(t.expiresAt),
  ],
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
