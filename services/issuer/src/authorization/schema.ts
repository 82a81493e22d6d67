/**
 * The authorizations' tables:
 * - `payment_nonces`: `(kid, nonce)` of every verified payment until its terms expire: a repeat gets the first
 *   decision.
 * - `authorizations`: one row per payment id, the decision and the money it holds (captures, voids and refunds
 *   update it: operations/store.ts). Two sets of amounts: the purchase's (`amount`, `currency`, captured and
 *   refunded, what the acquirer asks and is answered in) and the card's (`billing_*`, in the card's currency,
 *   what open-to-buy and the books move by), with the rate and fee that convert one to the other (fx/).
 */
import { integer, index, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
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
    /** The purchase, in its own currency (minor units): what the payer approved and the merchant is paid. */
    amount: money("amount").notNull(),
    currency: text("currency").notNull(),
    /** The card's currency; null when the card is unknown (`card_not_found`). */
    billingCurrency: text("billing_currency"),
    /** `amount` billed to the card (converted + fee); null when it could not be converted (`currency_not_supported`). */
    billingAmount: money("billing_amount"),
    /** Units of the billing currency per unit of `currency`, as a decimal string ("1": no conversion); null as above. */
    fxRate: text("fx_rate"),
    /** The foreign-transaction fee this authorization is billed with, in basis points of the converted amount. */
    fxFeeBps: integer("fx_fee_bps").notNull().default(0),
    captureMethod: text("capture_method").notNull(),
    /** approved | declined */
    decision: text("decision").notNull(),
    declineCode: text("decline_code"),
    authorizationCode: text("authorization_code"),
    /** approved | declined | captured | voided */
    status: text("status").notNull(),
    /** What this authorization still holds of the card's open-to-buy, in the billing currency. */
    holdAmount: money("hold_amount").notNull(),
    /** In `currency`. */
    amountCaptured: money("amount_captured").notNull().default(0),
    amountRefunded: money("amount_refunded").notNull().default(0),
    /** The same in the billing currency: each billed from the total so far (fx/conversion.ts). */
    billingCaptured: money("billing_captured").notNull().default(0),
    billingRefunded: money("billing_refunded").notNull().default(0),
    decidedAt: timestamptz("decided_at").notNull(),
  },
  (t) => [index("authorizations_card").on(t.cardRef)],
);
