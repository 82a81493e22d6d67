import { and, desc, eq, inArray } from "drizzle-orm";
import type { Mode } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import { refunds } from "./schema.ts";

export type RefundRow = typeof refunds.$inferSelect;

export async function insertRefund(tx: Executor, row: typeof refunds.$inferInsert): Promise<RefundRow> {
  const [inserted] = await tx.insert(refunds).values(row).returning();
  return inserted!;
}

export async function findRefund(db: Executor, merchantId: string, mode: Mode, id: string): Promise<RefundRow | null> {
  const rows = await db
    .select()
    .from(refunds)
    .where(and(eq(refunds.id, id), eq(refunds.merchantId, merchantId), eq(refunds.mode, mode)));
  return rows[0] ?? null;
}

export async function refundsOfPayment(db: Executor, merchantId: string, paymentId: string): Promise<RefundRow[]> {
  return db
    .select()
    .from(refunds)
    .where(and(eq(refunds.paymentId, paymentId), eq(refunds.merchantId, merchantId)))
    .orderBy(desc(refunds.id));
}

/** The refunds of several payments (the payer's receipts), newest first. */
export async function refundsOfPayments(db: Executor, paymentIds: readonly string[]): Promise<RefundRow[]> {
  if (paymentIds.length === 0) return [];
  return db
    .select()
    .from(refunds)
    .where(inArray(refunds.paymentId, [...paymentIds]))
    .orderBy(desc(refunds.id));
}
