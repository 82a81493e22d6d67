/** Payments: one row per payment, its state machine's status (payments/state-machine.ts) and its amounts in minor units. */
import { sql } from "drizzle-orm";
import { boolean, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import type { MandatePeriod } from "@mpay/protocol";
import { createdAt, money } from "../db/columns.ts";
import { merchants } from "../merchants/schema.ts";

export const payments = pgTable(
  "payments",
  {
    id: text("id").primaryKey(),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
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
    setupFutureUsage: jsonb("setup_future_usage").$type<{
      maxAmount: number;
      period?: MandatePeriod;
      expiresAt: number;
    }>(),
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
