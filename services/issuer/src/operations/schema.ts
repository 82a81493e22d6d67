/**
 * The operations' table: `operations`, captures, voids and refunds, one row per operation id with its answer
 * (idempotency), dated for the settlement file.
 */
import { index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { money, timestamptz } from "../db/columns.ts";

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
