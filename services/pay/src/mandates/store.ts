import { and, desc, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { recurringMandates } from "./schema.ts";

export type MandateRow = typeof recurringMandates.$inferSelect;

export async function insertMandate(db: Executor, row: typeof recurringMandates.$inferInsert): Promise<MandateRow> {
  const [inserted] = await db.insert(recurringMandates).values(row).returning();
  return inserted!;
}

export async function findMandate(db: Executor, id: string): Promise<MandateRow | null> {
  const rows = await db.select().from(recurringMandates).where(eq(recurringMandates.id, id));
  return rows[0] ?? null;
}

export async function mandatesOfPayer(db: Executor, payerId: string): Promise<MandateRow[]> {
  return db
    .select()
    .from(recurringMandates)
    .where(eq(recurringMandates.payerId, payerId))
    .orderBy(desc(recurringMandates.createdAt));
}

/** Marks an active mandate revoked, once; false when it was not active. */
export async function markRevoked(db: Executor, id: string): Promise<boolean> {
  const rows = await db
    .update(recurringMandates)
    .set({ status: "revoked", revokedAt: sql`now()` })
    .where(and(eq(recurringMandates.id, id), eq(recurringMandates.status, "active")))
    .returning({ id: recurringMandates.id });
  return rows.length === 1;
}
