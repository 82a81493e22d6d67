/**
 * The recurring payments' tables:
 * - `recurring_tokens`: card-on-file tokens (stored as SHA-256 hashes), each with the mandate terms the device
 *   signed (`consent`): the schedule every charge is held to.
 * - `recurring_token_periods`: per token and period, the charges approved and their total, claimed by each charge
 *   before it is approved.
 */
import { index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import type { MandateTerms } from "@mpay/protocol";
import { money, timestamptz } from "../db/columns.ts";

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
