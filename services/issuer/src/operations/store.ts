/** SQL for captures, voids and refunds: one row per operation id, with the answer a retry gets again. */
import { and, asc, eq, gte, inArray, lt } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { authorizations } from "../authorization/schema.ts";
import { operations } from "./schema.ts";

export type OperationRow = typeof operations.$inferSelect;

export async function operationOf(db: Executor, operationId: string): Promise<OperationRow | null> {
  const [row] = await db.select().from(operations).where(eq(operations.operationId, operationId)).limit(1);
  return row ?? null;
}

export async function insertOperation(tx: Executor, row: typeof operations.$inferInsert): Promise<void> {
  await tx.insert(operations).values(row);
}

export interface SettledOperation {
  operationId: string;
  paymentId: string;
  type: string;
  amount: number;
  processedAt: Date;
  merchantId: string;
  merchantName: string;
  currency: string;
  authorizationCode: string | null;
}

/** Captures and refunds processed in [from, to), with their payment's merchant, in time order. */
export async function settledBetween(db: Executor, from: Date, to: Date): Promise<SettledOperation[]> {
  return db
    .select({
      operationId: operations.operationId,
      paymentId: operations.paymentId,
      type: operations.type,
      amount: operations.amount,
      processedAt: operations.processedAt,
      merchantId: authorizations.merchantId,
      merchantName: authorizations.merchantName,
      currency: authorizations.currency,
      authorizationCode: authorizations.authorizationCode,
    })
    .from(operations)
    .innerJoin(authorizations, eq(authorizations.paymentId, operations.paymentId))
    .where(
      and(
        inArray(operations.type, ["capture", "refund"]),
        gte(operations.processedAt, from),
        lt(operations.processedAt, to),
      ),
    )
    .orderBy(asc(operations.processedAt), asc(operations.operationId));
}
