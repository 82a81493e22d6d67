/** SQL for started enrollments. The code is kept only as a hash; the CVC is not kept at all. */
import { eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { enrollments } from "./schema.ts";

export type EnrollmentRow = typeof enrollments.$inferSelect;

export async function insertEnrollment(db: Executor, row: typeof enrollments.$inferInsert): Promise<void> {
  await db.insert(enrollments).values(row);
}

/** The enrollment, locked until the transaction ends (one verification at a time). */
export async function lockEnrollment(tx: Executor, id: string): Promise<EnrollmentRow | null> {
  const [row] = await tx.select().from(enrollments).where(eq(enrollments.id, id)).for("update").limit(1);
  return row ?? null;
}

export async function finishEnrollment(
  tx: Executor,
  id: string,
  status: "verified" | "failed",
  now: Date,
): Promise<void> {
  await tx.update(enrollments).set({ status, finishedAt: now }).where(eq(enrollments.id, id));
}

/** Counts a wrong code; the enrollment is spent once `tries` wrong codes were given. Returns the count. */
export async function countWrongCode(tx: Executor, id: string, tries: number, now: Date): Promise<number> {
  const [row] = await tx
    .update(enrollments)
    .set({
      wrongCodes: sql`${enrollments.wrongCodes} + 1`,
      status: sql`case when ${enrollments.wrongCodes} + 1 >= ${tries} then 'failed' else ${enrollments.status} end`,
      finishedAt: sql`case when ${enrollments.wrongCodes} + 1 >= ${tries} then ${now.toISOString()}::timestamptz else null end`,
    })
    .where(eq(enrollments.id, id))
    .returning({ wrongCodes: enrollments.wrongCodes });
  return row?.wrongCodes ?? tries;
}
