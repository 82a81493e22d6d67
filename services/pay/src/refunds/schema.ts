/** Refunds of captured payments. */
import { index, pgTable, text } from "drizzle-orm/pg-core";
import { createdAt, money } from "../db/columns.ts";
import { payments } from "../payments/schema.ts";

export const refunds = pgTable(
  "refunds",
  {
    id: text("id").primaryKey(),
    paymentId: text("payment_id")
      .notNull()
      .references(() => payments.id),
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
