/**
 * Requests to card issuers whose outcome must never be left unknown (issue 4: "A timeout or a lost answer never
 * leaves a payment unknown"). A row is written before the pay server acts on an answer it may not get: the
 * reconciler (reconciler.ts) settles every row still `pending` by asking the issuer (an inquiry, or the
 * same idempotent operation again) and applying what the issuer's books say.
 */
import { sql } from "drizzle-orm";
import { bigint, index, integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt } from "../db/columns.ts";

export type IssuerOperationKind = "authorize" | "capture" | "void" | "refund";

export const issuerOperations = pgTable(
  "issuer_operations",
  {
    /** Sent to the issuer as `operationId`: a retry with it has one effect there. */
    id: text("id").primaryKey(),
    paymentId: text("payment_id").notNull(),
    merchantId: text("merchant_id").notNull(),
    issuerId: text("issuer_id").notNull(),
    kind: text("kind").$type<IssuerOperationKind>().notNull(),
    amount: bigint("amount", { mode: "number" }),
    /** For a refund: the refund's id, made before the call so that a retry reuses it. */
    refundId: text("refund_id"),
    status: text("status").$type<"pending" | "done" | "failed">().notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** For an authorization: the signed terms' expiry, after which the issuer can no longer accept them. */
    deadlineAt: timestamp("deadline_at", { withTimezone: true, mode: "date" }),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    doneAt: timestamp("done_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("issuer_operations_due").on(t.nextAttemptAt).where(sql`status = 'pending'`),
    // One authorization request per payment, ever: a second would be a second hold on the card.
    uniqueIndex("issuer_operations_one_authorize").on(t.paymentId).where(sql`kind = 'authorize'`),
    // One operation in doubt per payment: the next waits until the reconciler has settled it.
    uniqueIndex("issuer_operations_one_pending").on(t.paymentId).where(sql`status = 'pending'`),
  ],
);
