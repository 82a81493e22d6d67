/** SQL for accounts. */
import { eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { accounts } from "../db/schema.ts";

export type AccountRow = typeof accounts.$inferSelect;

/** Inserts the account unless the phone number is taken; null when it is (no exception to parse). */
export async function insertAccount(db: Db, row: typeof accounts.$inferInsert): Promise<AccountRow | null> {
  const [inserted] = await db
    .insert(accounts)
    .values(row)
    .onConflictDoNothing({ target: accounts.phoneNumber })
    .returning();
  return inserted ?? null;
}

export async function accountByPhone(db: Db, phoneNumber: string): Promise<AccountRow | null> {
  const [row] = await db.select().from(accounts).where(eq(accounts.phoneNumber, phoneNumber)).limit(1);
  return row ?? null;
}

export async function accountById(db: Db, id: string): Promise<AccountRow | null> {
  const [row] = await db.select().from(accounts).where(eq(accounts.id, id)).limit(1);
  return row ?? null;
}

export async function accountsByIds(db: Db, ids: readonly string[]): Promise<AccountRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(accounts)
    .where(inArray(accounts.id, [...ids]));
}
