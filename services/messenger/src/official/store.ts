/** SQL for official accounts' messages. Every read is scoped to one account: no query serves another's rows. */
import { and, count, desc, eq, isNull, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { officialMessages } from "../db/schema.ts";

export type OfficialMessageRow = typeof officialMessages.$inferSelect;

/** Inserts the message unless its id exists; null when it does (the caller compares with the stored one). */
export async function insertMessage(
  db: Db,
  row: typeof officialMessages.$inferInsert,
): Promise<OfficialMessageRow | null> {
  const [inserted] = await db
    .insert(officialMessages)
    .values(row)
    .onConflictDoNothing({ target: officialMessages.id })
    .returning();
  return inserted ?? null;
}

export async function messageById(db: Db, id: string): Promise<OfficialMessageRow | null> {
  const [row] = await db.select().from(officialMessages).where(eq(officialMessages.id, id)).limit(1);
  return row ?? null;
}

export async function accountMessage(db: Db, accountId: string, id: string): Promise<OfficialMessageRow | null> {
  const [row] = await db
    .select()
    .from(officialMessages)
    .where(and(eq(officialMessages.accountId, accountId), eq(officialMessages.id, id)))
    .limit(1);
  return row ?? null;
}

/** Newest first (order of arrival); `beforeSeq` continues after a page. One more row than asked says hasMore. */
export async function listMessages(
  db: Db,
  accountId: string,
  limit: number,
  beforeSeq?: number,
): Promise<{ rows: OfficialMessageRow[]; hasMore: boolean }> {
  const conditions = [eq(officialMessages.accountId, accountId)];
  if (beforeSeq !== undefined) conditions.push(lt(officialMessages.seq, beforeSeq));
  const rows = await db
    .select()
    .from(officialMessages)
    .where(and(...conditions))
    .orderBy(desc(officialMessages.seq))
    .limit(limit + 1);
  return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
}

export async function unreadCount(db: Db, accountId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(officialMessages)
    .where(and(eq(officialMessages.accountId, accountId), isNull(officialMessages.readAt)));
  return Number(row?.n ?? 0);
}

/** Marks the account's message read (the first time only) and returns it; null when the account has no such message. */
export async function markRead(db: Db, accountId: string, id: string): Promise<OfficialMessageRow | null> {
  const [row] = await db
    .update(officialMessages)
    .set({ readAt: sql`coalesce(${officialMessages.readAt}, now())` })
    .where(and(eq(officialMessages.accountId, accountId), eq(officialMessages.id, id)))
    .returning();
  return row ?? null;
}
