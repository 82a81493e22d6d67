import { and, desc, eq, gte, ilike, inArray, lt, lte, or, sql } from "drizzle-orm";
import type { Mode, PaymentStatus } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import { payments } from "./schema.ts";

export type PaymentRow = typeof payments.$inferSelect;
export type NewPaymentRow = typeof payments.$inferInsert;

export async function insertPayment(db: Executor, row: NewPaymentRow): Promise<PaymentRow> {
  const [inserted] = await db.insert(payments).values(row).returning();
  return inserted!;
}

/** Scoped by merchant and mode: another merchant's id, or a live id with a test key, is simply not found. */
export async function findPayment(
  db: Executor,
  merchantId: string,
  mode: Mode,
  id: string,
): Promise<PaymentRow | null> {
  const rows = await db
    .select()
    .from(payments)
    .where(and(eq(payments.id, id), eq(payments.merchantId, merchantId), eq(payments.mode, mode)));
  return rows[0] ?? null;
}

/** By id alone: for the payer's side, which is not scoped by merchant key. */
export async function findPaymentById(db: Executor, id: string): Promise<PaymentRow | null> {
  const rows = await db.select().from(payments).where(eq(payments.id, id));
  return rows[0] ?? null;
}

/** Several by id (the payer's receipts), in no particular order. */
export async function findPaymentsByIds(db: Executor, ids: readonly string[]): Promise<PaymentRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(payments)
    .where(inArray(payments.id, [...ids]));
}

/** Loads and locks the row until the transaction ends: concurrent captures and refunds queue here. */
export async function lockPayment(
  tx: Executor,
  id: string,
  scope?: { merchantId: string; mode: Mode },
): Promise<PaymentRow | null> {
  const where = scope
    ? and(eq(payments.id, id), eq(payments.merchantId, scope.merchantId), eq(payments.mode, scope.mode))
    : eq(payments.id, id);
  const rows = await tx.select().from(payments).where(where).for("update");
  return rows[0] ?? null;
}

export async function updatePayment(tx: Executor, id: string, changes: Partial<NewPaymentRow>): Promise<PaymentRow> {
  const [updated] = await tx
    .update(payments)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(payments.id, id))
    .returning();
  return updated!;
}

/** Attaches what another context made for the payment; not a change of its state, so `updatedAt` stays. */
export async function attachToPayment(
  db: Executor,
  id: string,
  changes: Pick<NewPaymentRow, "mandateId" | "sealedSharedDetails">,
): Promise<void> {
  await db.update(payments).set(changes).where(eq(payments.id, id));
}

export interface ListFilter {
  merchantId: string;
  mode: Mode;
  limit: number;
  startingAfter?: string;
  status?: PaymentStatus;
  orderId?: string;
  /** Created at or after this moment. */
  createdFrom?: Date;
  /** Created before this moment. */
  createdTo?: Date;
  /** A part of the order id or the item name, any case. */
  q?: string;
}

/** `q` as a LIKE pattern that matches it literally anywhere: `%`, `_` and `\` are escaped. */
export function containsPattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Newest first; ids are time-ordered, so the cursor is simply "ids below this one". Fetches one extra row for hasMore. */
export async function listPayments(db: Executor, f: ListFilter): Promise<{ rows: PaymentRow[]; hasMore: boolean }> {
  const conditions = [eq(payments.merchantId, f.merchantId), eq(payments.mode, f.mode)];
  if (f.startingAfter) conditions.push(lt(payments.id, f.startingAfter));
  if (f.status) conditions.push(eq(payments.status, f.status));
  if (f.orderId) conditions.push(eq(payments.orderId, f.orderId));
  if (f.createdFrom) conditions.push(gte(payments.createdAt, f.createdFrom));
  if (f.createdTo) conditions.push(lt(payments.createdAt, f.createdTo));
  if (f.q) {
    const pattern = containsPattern(f.q);
    conditions.push(or(ilike(payments.orderId, pattern), ilike(payments.itemName, pattern))!);
  }
  const rows = await db
    .select()
    .from(payments)
    .where(and(...conditions))
    .orderBy(desc(payments.id))
    .limit(f.limit + 1);
  return { rows: rows.slice(0, f.limit), hasMore: rows.length > f.limit };
}

/** Ids of payments whose approval or authorization window has passed (the expiry worker's batch). */
export async function findExpired(db: Executor, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: payments.id })
    .from(payments)
    .where(sql`(${payments.status} = 'requires_approval' and ${lte(payments.approvalExpiresAt, now)})
            or (${payments.status} = 'authorized' and ${lte(payments.authorizationExpiresAt, now)})`)
    .limit(limit);
  return rows.map((r) => r.id);
}
