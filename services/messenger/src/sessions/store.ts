/** SQL for the messenger app's sessions. */
import { and, eq, gt, lte } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { appSessions } from "../db/schema.ts";

export async function insertSession(db: Db, row: typeof appSessions.$inferInsert): Promise<void> {
  await db.insert(appSessions).values(row);
}

/** The account of an unexpired session, or null. */
export async function sessionAccount(db: Db, tokenHash: string, now: Date): Promise<string | null> {
  const [row] = await db
    .select({ accountId: appSessions.accountId })
    .from(appSessions)
    .where(and(eq(appSessions.tokenHash, tokenHash), gt(appSessions.expiresAt, now)))
    .limit(1);
  return row?.accountId ?? null;
}

/** Deletes one session; true when it existed and had not expired. */
export async function deleteSession(db: Db, tokenHash: string, now: Date): Promise<boolean> {
  const deleted = await db
    .delete(appSessions)
    .where(eq(appSessions.tokenHash, tokenHash))
    .returning({ expiresAt: appSessions.expiresAt });
  return deleted.some((row) => row.expiresAt > now);
}

export async function deleteExpiredSessions(db: Db, now: Date): Promise<number> {
  const deleted = await db
    .delete(appSessions)
    .where(lte(appSessions.expiresAt, now))
    .returning({ accountId: appSessions.accountId });
  return deleted.length;
}
