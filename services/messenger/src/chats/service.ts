/**
 * Chats between messenger accounts: direct (two people, one chat however often it is opened) and group. The rules
 * live here: who may open a chat with whom (the creator's friends), who may read and write one (its members; to
 * anyone else a chat does not exist), idempotent sending, the per-account send limit and read marks.
 *
 * A message is stored before anyone hears of it: listeners (the live connections, wired in system.ts) are told
 * after the commit, and a connection that was away catches up from the store by seq (realtime/connection.ts).
 */
import { LimitSlots, type Clock } from "@mpay/service-kit";
import {
  CHAT_ID_PATTERN,
  type Chat,
  type ChatHistoryQuery,
  type ChatMessage,
  type ChatRead,
  type CreateChatInput,
  type SendChatMessageInput,
} from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import { opaqueId } from "../ids.ts";
import type { Account, AccountService } from "../accounts/service.ts";
import type { FriendService } from "../friends/service.ts";
import { chatSendSlots } from "./schema.ts";
import {
  chatHistory,
  chatsOf,
  createGroupChat,
  insertChatMessage,
  markChatRead,
  memberIdsOf,
  membership,
  messageByClientId,
  messagesOfAccountAfter,
  newestSeqOf,
  openDirectChat,
  unreadCount,
  type ChatListRow,
  type ChatMessageRow,
} from "./store.ts";

export interface SendLimits {
  perWindow: number;
  windowSeconds: number;
}

/** What listeners hear after a message is stored: the message and who is in its chat. */
export interface StoredChatMessage {
  message: ChatMessage;
  memberIds: readonly string[];
}

export type StoredListener = (stored: StoredChatMessage) => void;

const SENT = "message";
const NOT_FOUND = "You have no chat with this id.";

export class ChatService {
  readonly #slots = new LimitSlots(chatSendSlots);
  readonly #listeners: StoredListener[] = [];

  constructor(
    private readonly db: Db,
    private readonly accounts: AccountService,
    private readonly friends: FriendService,
    private readonly limits: SendLimits,
    private readonly clock: Clock,
  ) {}

  /** Hears every newly stored message (not resends), after its commit. A listener must not throw. */
  onStored(listener: StoredListener): void {
    this.#listeners.push(listener);
  }

  /**
   * One other member: the direct chat with them (`created` false when it existed). More: a new group chat. Every
   * other member must be the creator's friend (`not_a_friend`). Opening a direct chat is idempotent; a group is
   * new each time, as in any messenger.
   */
  async open(accountId: string, input: CreateChatInput): Promise<{ chat: Chat; created: boolean }> {
    const others = [...new Set(input.memberIds)];
    if (others.includes(accountId))
      throw new ApiError(
        "parameter_invalid",
        "memberIds lists the other members; you are a member of your own chats already.",
        "memberIds",
      );
    const strangers = await this.friends.notFriends(accountId, others);
    if (strangers.length > 0)
      throw new ApiError(
        "not_a_friend",
        `Every member must be one of your friends; add ${strangers[0]} as a friend first.`,
        "memberIds",
      );
    let chatId: string;
    let created = true;
    if (others.length === 1) {
      if (input.title !== undefined)
        throw new ApiError("parameter_invalid", "A direct chat has no title; titles are for group chats.", "title");
      const pair = [accountId, others[0] as string].sort() as [string, string];
      ({ chatId, created } = await openDirectChat(
        this.db,
        { id: opaqueId("chat_"), directKey: pair.join(":"), createdBy: accountId },
        pair,
      ));
    } else {
      chatId = opaqueId("chat_");
      await createGroupChat(this.db, { id: chatId, title: input.title ?? null, createdBy: accountId }, [
        accountId,
        ...others,
      ]);
    }
    const [chat] = await this.views(accountId, await chatsOf(this.db, accountId, chatId));
    if (!chat) throw new Error("a chat just opened is not the account's");
    return { chat, created };
  }

  /** The account's chats, most recently active first. */
  async list(accountId: string): Promise<Chat[]> {
    return this.views(accountId, await chatsOf(this.db, accountId));
  }

  /** A page of a chat's history, oldest first; `chat_not_found` unless the account is a member. */
  async history(
    accountId: string,
    chatId: string,
    query: ChatHistoryQuery,
  ): Promise<{ data: ChatMessage[]; hasMore: boolean }> {
    await this.memberOf(accountId, chatId);
    const { rows, hasMore } = await chatHistory(this.db, chatId, query, query.limit);
    return { data: await this.messageViews(rows), hasMore };
  }

  /**
   * Sends a message to a chat the account is in. This method needs to be idempotent: a client that lost the
   * answer sends the same clientMessageId again and gets the stored message (`created` false), never a second
   * one; the same clientMessageId with another text or chat is `client_message_id_conflict`. A new message claims
   * a slot of the account's send limit first (`rate_limited`); a resend claims none.
   */
  async send(
    accountId: string,
    chatId: string,
    input: SendChatMessageInput,
  ): Promise<{ message: ChatMessage; created: boolean }> {
    await this.memberOf(accountId, chatId);
    const earlier = await messageByClientId(this.db, accountId, input.clientMessageId);
    if (earlier) return { message: await this.resent(earlier, chatId, input), created: false };
    const { perWindow, windowSeconds } = this.limits;
    const slot = await this.#slots.claim(
      this.db,
      [{ subject: `account:${accountId}`, kind: SENT, max: perWindow, windowSeconds }],
      this.clock.now(),
    );
    if (!slot)
      throw new ApiError(
        "rate_limited",
        `You can send at most ${perWindow} messages in ${windowSeconds} seconds; wait a moment.`,
        undefined,
        { retryAfterSeconds: windowSeconds },
      );
    const stored = await insertChatMessage(this.db, {
      id: opaqueId("cmsg_"),
      chatId,
      senderId: accountId,
      clientMessageId: input.clientMessageId,
      text: input.text,
    });
    if (!stored) {
      // A simultaneous send of the same clientMessageId committed first.
      const winner = await messageByClientId(this.db, accountId, input.clientMessageId);
      if (!winner) throw new Error("a conflicting message is not stored");
      return { message: await this.resent(winner, chatId, input), created: false };
    }
    const [message] = await this.messageViews([stored.message]);
    if (!message) throw new Error("a stored message has no view");
    for (const listener of this.#listeners) listener({ message, memberIds: stored.memberIds });
    return { message, created: true };
  }

  /** Moves the account's read mark of a chat up to `seq`; answers what is left unread. */
  async markRead(accountId: string, chatId: string, seq: number): Promise<ChatRead> {
    if (!CHAT_ID_PATTERN.test(chatId)) throw new ApiError("chat_not_found", NOT_FOUND, "id");
    const lastReadSeq = await markChatRead(this.db, chatId, accountId, seq);
    if (lastReadSeq === null) throw new ApiError("chat_not_found", NOT_FOUND, "id");
    return {
      object: "chat_read",
      chatId,
      lastReadSeq,
      unreadCount: await unreadCount(this.db, chatId, accountId, lastReadSeq),
    };
  }

  /** Messages of the account's chats after `afterSeq`, in seq order, at most `limit` (the live connection's replay). */
  async messagesAfter(accountId: string, afterSeq: number, limit: number): Promise<ChatMessage[]> {
    return this.messageViews(await messagesOfAccountAfter(this.db, accountId, afterSeq, limit));
  }

  /** The newest seq of the account's chats (0: none). */
  newestSeq(accountId: string): Promise<number> {
    return newestSeqOf(this.db, accountId);
  }

  /** Deletes send slots older than the window; returns how many. */
  sweep(): Promise<number> {
    return this.#slots.sweep(this.db, new Date(this.clock.now().getTime() - this.limits.windowSeconds * 1000));
  }

  private async memberOf(accountId: string, chatId: string): Promise<void> {
    if (!CHAT_ID_PATTERN.test(chatId) || !(await membership(this.db, chatId, accountId)))
      throw new ApiError("chat_not_found", NOT_FOUND, "id");
  }

  private async resent(earlier: ChatMessageRow, chatId: string, input: SendChatMessageInput): Promise<ChatMessage> {
    if (earlier.chatId !== chatId || earlier.text !== input.text)
      throw new ApiError(
        "client_message_id_conflict",
        "You already sent a different message with this clientMessageId; use a new one for a new message.",
        "clientMessageId",
      );
    const [message] = await this.messageViews([earlier]);
    if (!message) throw new Error("a stored message has no view");
    return message;
  }

  private async views(accountId: string, rows: ChatListRow[]): Promise<Chat[]> {
    const members = await memberIdsOf(
      this.db,
      rows.map((row) => row.chat.id),
    );
    const accounts = await this.accounts.findMany([...members.values()].flat());
    return rows.map((row) => ({
      object: "chat",
      id: row.chat.id,
      kind: row.chat.kind,
      title: row.chat.title,
      members: ordered(
        (members.get(row.chat.id) ?? []).map((id) => member(id, accounts)),
        row.chat.createdBy,
      ),
      lastMessage: row.lastMessage ? messageView(row.lastMessage, accounts) : null,
      unreadCount: row.unreadCount,
      lastReadSeq: Number(row.lastReadSeq),
      createdAt: row.chat.createdAt.toISOString(),
      lastActivityAt: row.chat.lastActivityAt.toISOString(),
    }));
  }

  private async messageViews(rows: readonly ChatMessageRow[]): Promise<ChatMessage[]> {
    const accounts = await this.accounts.findMany(rows.map((row) => row.senderId));
    return rows.map((row) => messageView(row, accounts));
  }
}

function member(id: string, accounts: ReadonlyMap<string, Account>): { id: string; displayName: string } {
  return { id, displayName: accounts.get(id)?.displayName ?? "" };
}

/** The creator first, then the others by name: the same order on every screen. */
function ordered(members: Array<{ id: string; displayName: string }>, creator: string) {
  return members.sort(
    (a, b) =>
      Number(b.id === creator) - Number(a.id === creator) ||
      a.displayName.localeCompare(b.displayName) ||
      (a.id < b.id ? -1 : 1),
  );
}

function messageView(row: ChatMessageRow, accounts: ReadonlyMap<string, Account>): ChatMessage {
  return {
    object: "chat_message",
    id: row.id,
    chatId: row.chatId,
    seq: Number(row.seq),
    sender: member(row.senderId, accounts),
    text: row.text,
    clientMessageId: row.clientMessageId,
    createdAt: row.createdAt.toISOString(),
  };
}
