/**
 * Card-on-file mandates (issue 4, deliverable 7): the payer consented, with a device signature the issuer
 * verified, to let one merchant charge one card off-session on a schedule: up to a cap per charge, a count and a
 * total per period, until an end date. The issuer's token is kept only sealed by the key provider (it is a
 * credential toward the issuer); merchants know the mandate by its id. No PAN anywhere: the token is the
 * issuer's, bound to merchant and schedule at the issuer, which enforces the schedule itself (issue 7, hole 4).
 */
import { bigint, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import type { MandatePeriod } from "@mpay/protocol";

export const recurringMandates = pgTable(
  "recurring_mandates",
  {
    id: text("id").primaryKey(),
    merchantId: text("merchant_id").notNull(),
    mode: text("mode").$type<"test" | "live">().notNull(),
    payerId: text("payer_id").notNull(),
    cardId: text("card_id").notNull(),
    issuerId: text("issuer_id").notNull(),
    /** The issuer's token, sealed by the key provider (purpose recurring-token, AAD = the mandate id). */
    sealedToken: text("sealed_token").notNull(),
    maxAmount: bigint("max_amount", { mode: "number" }).notNull(),
    /** The most charges and total per period the payer signed; null only for mandates given before schedules. */
    period: jsonb("period").$type<MandatePeriod>(),
    currency: text("currency").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    status: text("status").$type<"active" | "revoked">().notNull(),
    /** The payment the payer approved it with. */
    paymentId: text("payment_id").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("recurring_mandates_payer").on(t.payerId),
    index("recurring_mandates_merchant").on(t.merchantId, t.mode),
  ],
);
