/**
 * SQL for chats, their members and their messages. Every read that serves an account goes through its membership
 * (`chat_members`), so no query hands out a chat the account is not in.
 */
import { and, asc, desc, eq, gt, inArray, lt, sql } from "drizzle-orm";
import { queryRows } from "@mpay/service-kit";
import type { Db } from "../db/client.ts";
import { chatMembers, chatMessages, chats } from "./schema.ts";

export type ChatRow = typeof chats.$inferSelect;
export type ChatMessageRow = typeof chatMessages.$inferSelect;

/**
 * One lock for the messenger's message sequence, held from before `nextval` until commit. Without it, two sends
 * could take seqs 10 and 11 and commit 11 first: a client that saw 11 and reconnected with `afterSeq=11` would
 * never get 10. With it, seqs become visible in their order, at the price of one send committing at a time (a few
 * milliseconds each; a messenger that outgrows it would shard the sequence per chat group). Any fixed number,
 * unlike the migration lock's.
 */
const SEQUENCE_LOCK = 4_200_002;

export interface MembershipRow {
  chat: ChatRow;
  lastReadSeq: number;
}

/** Opens the direct chat of `key` with its two members, or finds it; `created` says which. */
export async function openDirectChat(
  db: Db,
  chat: { id: string; directKey: string; createdBy: string },
  memberIds: readonly [string, string],
): Promise<{ chatId: string; created: boolean }> {
  return db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(chats)
      .values({ id: chat.id, kind: "direct", title: null, directKey: chat.directKey, createdBy: chat.createdBy })
      .onConflictDoNothing({ target: chats.directKey })
      .returning({ id: chats.id });
    if (inserted) {
      await tx.insert(chatMembers).values(memberIds.map((accountId) => ({ chatId: inserted.id, accountId })));
      return { chatId: inserted.id, created: true };
    }
    // The other one committed first (its members with it): the unique key names the chat both meant.
    const [existing] = await tx
      .select({ id: chats.id })
      .from(chats)
      .where(eq(chats.directKey, chat.directKey))
      .limit(1);
    if (!existing) throw new Error("direct chat vanished between insert and select");
    return { chatId: existing.id, created: false };
  });
}

export async function createGroupChat(
  db: Db,
  chat: { id: string; title: string | null; createdBy: string },
  memberIds: readonly string[],
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.insert(chats).values({ id: chat.id, kind: "group", title: chat.title, createdBy: chat.createdBy });
    await tx.insert(chatMembers).values(memberIds.map((accountId) => ({ chatId: chat.id, accountId })));
  });
}

/** The chat, if `accountId` is one of its members. */
export async function membership(db: Db, chatId: string, accountId: string): Promise<MembershipRow | null> {
  const [row] = await db
    .select({ chat: chats, lastReadSeq: chatMembers.lastReadSeq })
    .from(chatMembers)
    .innerJoin(chats, eq(chats.id, chatMembers.chatId))
    .where(and(eq(chatMembers.chatId, chatId), eq(chatMembers.accountId, accountId)))
    .limit(1);
  return row ?? null;
}

/** Member ids of each chat. */
export async function memberIdsOf(db: Db, chatIds: readonly string[]): Promise<Map<string, string[]>> {
  const members = new Map<string, string[]>(chatIds.map((id) => [id, []]));
  if (chatIds.length === 0) return members;
  const rows = await db
    .select({ chatId: chatMembers.chatId, accountId: chatMembers.accountId })
    .from(chatMembers)
    .where(inArray(chatMembers.chatId, [...chatIds]));
  for (const row of rows) members.get(row.chatId)?.push(row.accountId);
  return members;
}

export interface ChatListRow extends MembershipRow {
  unreadCount: number;
  lastMessage: ChatMessageRow | null;
}

/** The account's chats, most recently active first, each with its last message and the account's unread count. */
export async function chatsOf(db: Db, accountId: string, onlyChatId?: string): Promise<ChatListRow[]> {
  const conditions = [eq(chatMembers.accountId, accountId)];
  if (onlyChatId !== undefined) conditions.push(eq(chatMembers.chatId, onlyChatId));
  const rows = await db
    .select({
      chat: chats,
      lastReadSeq: chatMembers.lastReadSeq,
      unreadCount: sql<number>`(select count(*)::int from ${chatMessages} unread
        where unread.chat_id = ${chats.id} and unread.seq > ${chatMembers.lastReadSeq}
        and unread.sender_id <> ${accountId})`,
      lastMessage: chatMessages,
    })
    .from(chatMembers)
    .innerJoin(chats, eq(chats.id, chatMembers.chatId))
    .leftJoin(chatMessages, and(eq(chatMessages.chatId, chats.id), eq(chatMessages.seq, chats.lastSeq)))
    .where(and(...conditions))
    .orderBy(desc(chats.lastActivityAt), desc(chats.id));
  return rows.map((row) => ({ ...row, unreadCount: Number(row.unreadCount) }));
}

/** At most one of the two (the route refuses both): none is the newest page. */
export interface HistoryCursor {
  beforeSeq?: number | undefined;
  afterSeq?: number | undefined;
}

/** A page of the chat's messages in seq order; `hasMore`: more lie beyond it in the direction asked. */
export async function chatHistory(
  db: Db,
  chatId: string,
  cursor: HistoryCursor,
  limit: number,
): Promise<{ rows: ChatMessageRow[]; hasMore: boolean }> {
  if (cursor.afterSeq !== undefined) {
    const rows = await db
      .select()
      .from(chatMessages)
      .where(and(eq(chatMessages.chatId, chatId), gt(chatMessages.seq, cursor.afterSeq)))
      .orderBy(asc(chatMessages.seq))
      .limit(limit + 1);
    return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
  }
  const conditions = [eq(chatMessages.chatId, chatId)];
  if (cursor.beforeSeq !== undefined) conditions.push(lt(chatMessages.seq, cursor.beforeSeq));
  const rows = await db
    .select()
    .from(chatMessages)
    .where(and(...conditions))
    .orderBy(desc(chatMessages.seq))
    .limit(limit + 1);
  return { rows: rows.slice(0, limit).reverse(), hasMore: rows.length > limit };
}

export async function messageByClientId(
  db: Db,
  senderId: string,
  clientMessageId: string,
): Promise<ChatMessageRow | null> {
  const [row] = await db
    .select()
    .from(chatMessages)
    .where(and(eq(chatMessages.senderId, senderId), eq(chatMessages.clientMessageId, clientMessageId)))
    .limit(1);
  return row ?? null;
}

/**
 * Stores a message under the sequence lock and moves the chat's last message to it, in one transaction; null
 * when the sender already sent this clientMessageId (nothing is written). Answers the chat's member ids, to tell.
 */
export async function insertChatMessage(
  db: Db,
  row: { id: string; chatId: string; senderId: string; clientMessageId: string; text: string },
): Promise<{ message: ChatMessageRow; memberIds: string[] } | null> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${SEQUENCE_LOCK})`);
    const [message] = await tx
      .insert(chatMessages)
      .values(row)
      .onConflictDoNothing({ target: [chatMessages.senderId, chatMessages.clientMessageId] })
      .returning();
    if (!message) return null;
    await tx
      .update(chats)
      .set({ lastSeq: message.seq, lastActivityAt: message.createdAt })
      .where(eq(chats.id, row.chatId));
    const members = await tx
      .select({ accountId: chatMembers.accountId })
      .from(chatMembers)
      .where(eq(chatMembers.chatId, row.chatId));
    return { message, memberIds: members.map((member) => member.accountId) };
  });
}

/**
 * Moves the account's read mark up to `seq` (never down, never past the chat's newest message, whose seq is
 * already final: see SEQUENCE_LOCK) and answers the mark.
 */
export async function markChatRead(db: Db, chatId: string, accountId: string, seq: number): Promise<number | null> {
  const [row] = await db
    .update(chatMembers)
    .set({
      lastReadSeq: sql`greatest(${chatMembers.lastReadSeq}, least(${seq}::bigint, (select ${chats.lastSeq} from ${chats} where ${chats.id} = ${chatId})))`,
    })
    .where(and(eq(chatMembers.chatId, chatId), eq(chatMembers.accountId, accountId)))
    .returning({ lastReadSeq: chatMembers.lastReadSeq });
  return row ? Number(row.lastReadSeq) : null;
}

/** Messages from the others after the account's read mark. */
export async function unreadCount(db: Db, chatId: string, accountId: string, lastReadSeq: number): Promise<number> {
  const [row] = await queryRows<{ n: number | string }>(
    db,
    sql`select count(*)::int as n from ${chatMessages} where ${chatMessages.chatId} = ${chatId}
        and ${chatMessages.seq} > ${lastReadSeq} and ${chatMessages.senderId} <> ${accountId}`,
  );
  return Number(row?.n ?? 0);
}

/** Messages of every chat the account is in with seq > `afterSeq`, in seq order (the live connection's replay). */
export async function messagesOfAccountAfter(
  db: Db,
  accountId: string,
  afterSeq: number,
  limit: number,
): Promise<ChatMessageRow[]> {
  const rows = await db
    .select({ message: chatMessages })
    .from(chatMessages)
    .innerJoin(chatMembers, and(eq(chatMembers.chatId, chatMessages.chatId), eq(chatMembers.accountId, accountId)))
    .where(gt(chatMessages.seq, afterSeq))
    .orderBy(asc(chatMessages.seq))
    .limit(limit);
  return rows.map((row) => row.message);
}

/** The newest seq of the account's chats (0: none). */
export async function newestSeqOf(db: Db, accountId: string): Promise<number> {
  const [row] = await db
    .select({ seq: sql<number | string | null>`max(${chats.lastSeq})` })
    .from(chatMembers)
    .innerJoin(chats, eq(chats.id, chatMembers.chatId))
    .where(eq(chatMembers.accountId, accountId));
  return Number(row?.seq ?? 0);
}
