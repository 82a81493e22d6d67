/** The double-entry ledger: balanced transactions, their entries, and account balances spread over slots. */
import { bigserial, index, pgTable, primaryKey, smallint, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt, money } from "../db/columns.ts";

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
  (t) => [
    index("ledger_transactions_payment").on(t.paymentId),
    // The daily report (store.ts dailyMovements): one merchant's and mode's postings from a day on.
    index("ledger_transactions_merchant_day").on(t.merchantId, t.mode, t.createdAt),
  ],
);

/** Signed amounts: a debit is positive, a credit negative, so a balanced transaction sums to zero per currency. */
export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    transactionId: text("transaction_id")
      .notNull()
      .references(() => ledgerTransactions.id),
    merchantId: text("merchant_id").notNull(),
    account: text("account").notNull(),
    currency: text("currency").notNull(),
    amount: money("amount").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("ledger_entries_transaction").on(t.transactionId),
    index("ledger_entries_account").on(t.account, t.currency),
  ],
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
