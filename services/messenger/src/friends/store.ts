/** SQL for friends. Every read is scoped to the account whose list it is. */
import { and, asc, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { friends } from "./schema.ts";

/** Adds the friend unless already there; true when the row is new. */
export async function insertFriend(db: Db, accountId: string, friendId: string): Promise<boolean> {
  const inserted = await db
    .insert(friends)
    .values({ accountId, friendId })
    .onConflictDoNothing({ target: [friends.accountId, friends.friendId] })
    .returning({ friendId: friends.friendId });
  return inserted.length > 0;
}

/** The ids of the account's friends, in the order they were added. */
export async function friendIds(db: Db, accountId: string): Promise<string[]> {
  const rows = await db
    .select({ friendId: friends.friendId })
    .from(friends)
    .where(eq(friends.accountId, accountId))
    .orderBy(asc(friends.createdAt), asc(friends.friendId));
  return rows.map((row) => row.friendId);
}

/** Which of `ids` are the account's friends. */
export async function friendIdsAmong(db: Db, accountId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ friendId: friends.friendId })
    .from(friends)
    .where(and(eq(friends.accountId, accountId), inArray(friends.friendId, [...ids])));
  return new Set(rows.map((row) => row.friendId));
}
