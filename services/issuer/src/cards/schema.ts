/**
 * The cards' table (one issuer's database, or PostgreSQL schema, of its own; none reads another's).
 * `card_accounts`: the cardholder accounts. The issuer keeps the PAN (it is the issuer) but never the CVC, which it
 * recomputes under its card verification key (keys/cvc.ts). `card_ref` is random, never derived from the PAN.
 * Books: credit_limit − open_to_buy = open holds + captured − refunded (backoffice/books.ts).
 */
import { pgTable, text } from "drizzle-orm/pg-core";
import { money, timestamptz } from "../db/columns.ts";

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
