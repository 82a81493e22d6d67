/**
 * The messenger app's API (services/messenger, issue 9): the session's account, friends, chats and their messages,
 * and the frames of the live connection (`GET /api/ws`). Defined once, so the web app and the messenger validate
 * the same shapes. Requests are strict (an unknown field is refused); answers are read leniently.
 */
import { z } from "zod";
import {
  CONTROLS,
  CONTROLS_BUT_NEWLINE,
  MESSENGER_ACCOUNT_PATTERN,
  officialMessageSchema,
} from "./official-message.ts";

export const CHAT_LIMITS = {
  /** Characters (UTF-16 code units, as `String.length` counts them) of one chat message. */
  text: 2000,
  title: 100,
  /** Other members a group chat can be created with (the creator comes on top). */
  members: 50,
  /** Messages of one history page. */
  page: 100,
} as const;

/** `chat_` and 26 Crockford base32 characters (130 random bits). */
export const CHAT_ID_PATTERN = /^chat_[0-9A-HJKMNP-TV-Z]{26}$/;
/** `cmsg_` and 26 Crockford base32 characters. */
export const CHAT_MESSAGE_ID_PATTERN = /^cmsg_[0-9A-HJKMNP-TV-Z]{26}$/;
/** The sender's own id of a message (a UUID fits), its idempotency key: a resend answers the stored message. */
export const CLIENT_MESSAGE_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

const accountId = z.string().regex(MESSENGER_ACCOUNT_PATTERN, "must be a messenger account id (acct_…)");
/** A seq as a query parameter or JSON number: a non-negative safe integer. */
const seq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// ── the session's account ────────────────────────────────────────────────────────────────────────────────────────

/** `GET /api/me`. */
export const messengerAccountSchema = z.object({
  object: z.literal("account"),
  id: z.string(),
  phoneNumber: z.string(),
  displayName: z.string(),
});
export type MessengerAccount = z.infer<typeof messengerAccountSchema>;

// ── friends ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** `POST /api/friends`: the friend's phone number, in E.164 (separators allowed; the messenger normalizes it). */
export const addFriendInputSchema = z.strictObject({ phoneNumber: z.string().max(32) });
export type AddFriendInput = z.infer<typeof addFriendInputSchema>;

export const friendSchema = z.object({
  object: z.literal("friend"),
  id: z.string(),
  displayName: z.string(),
  phoneNumber: z.string(),
});
export type Friend = z.infer<typeof friendSchema>;

export const friendListSchema = z.object({ object: z.literal("list"), data: z.array(friendSchema) });
export type FriendList = z.infer<typeof friendListSchema>;

// ── chats ────────────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * `POST /api/chats`: the other members (the creator's friends). One id opens the direct chat with that friend
 * (the existing one if there is one); two or more make a new group chat, optionally with a title.
 */
export const createChatInputSchema = z.strictObject({
  memberIds: z.array(accountId).min(1).max(CHAT_LIMITS.members),
  title: z
    .string()
    .trim()
    .min(1, "title must not be empty")
    .max(CHAT_LIMITS.title, `title must be at most ${CHAT_LIMITS.title} characters`)
    .refine((value) => !CONTROLS.test(value), "title must not contain control characters")
    .optional(),
});
export type CreateChatInput = z.input<typeof createChatInputSchema>;

export const chatMemberSchema = z.object({ id: z.string(), displayName: z.string() });
export type ChatMember = z.infer<typeof chatMemberSchema>;

export const chatMessageSchema = z.object({
  object: z.literal("chat_message"),
  id: z.string(),
  chatId: z.string(),
  /** Increasing over the whole messenger (not per chat): a client's last seen seq covers every chat at once. */
  seq: z.number().int(),
  sender: chatMemberSchema,
  text: z.string(),
  clientMessageId: z.string(),
  createdAt: z.string(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export const chatKindSchema = z.enum(["direct", "group"]);
export type ChatKind = z.infer<typeof chatKindSchema>;

export const chatSchema = z.object({
  object: z.literal("chat"),
  id: z.string(),
  kind: chatKindSchema,
  /** A group's title; null for a direct chat and for a group made without one (show the members' names). */
  title: z.string().nullable(),
  /** Every member, the session's account included. */
  members: z.array(chatMemberSchema),
  lastMessage: chatMessageSchema.nullable(),
  /** Messages from the others after the account's read mark. */
  unreadCount: z.number().int(),
  /** The account's read mark: the highest seq it has read in this chat (0: none). */
  lastReadSeq: z.number().int(),
  createdAt: z.string(),
  /** The last message's time, or the creation time: the list is in this order, newest first. */
  lastActivityAt: z.string(),
});
export type Chat = z.infer<typeof chatSchema>;

export const chatListSchema = z.object({ object: z.literal("list"), data: z.array(chatSchema) });
export type ChatList = z.infer<typeof chatListSchema>;

/**
 * `GET /api/chats/{id}/messages`: without a cursor the newest `limit` messages; `beforeSeq` the `limit` messages
 * just before it (scrolling back); `afterSeq` the `limit` messages just after it (catching up). Either answer is
 * in seq order, oldest first.
 */
export const chatHistoryQuerySchema = z
  .strictObject({
    beforeSeq: seq.optional(),
    afterSeq: seq.optional(),
    limit: z.coerce.number().int().min(1).max(CHAT_LIMITS.page).default(50),
  })
  .refine((query) => query.beforeSeq === undefined || query.afterSeq === undefined, {
    message: "give beforeSeq or afterSeq, not both",
    path: ["afterSeq"],
  });
export type ChatHistoryQuery = z.output<typeof chatHistoryQuerySchema>;

export const chatMessageListSchema = z.object({
  object: z.literal("list"),
  data: z.array(chatMessageSchema),
  /** More messages lie beyond this page in the direction asked (older for beforeSeq and none, newer for afterSeq). */
  hasMore: z.boolean(),
});
export type ChatMessageList = z.infer<typeof chatMessageListSchema>;

/** `POST /api/chats/{id}/messages`. Line breaks are allowed; other control characters and bidi overrides are not. */
export const sendChatMessageInputSchema = z.strictObject({
  clientMessageId: z
    .string()
    .regex(CLIENT_MESSAGE_ID_PATTERN, "clientMessageId must be 8 to 64 characters of A-Z, a-z, 0-9, _ and -"),
  text: z
    .string()
    .min(1, "text must not be empty")
    .max(CHAT_LIMITS.text, `text must be at most ${CHAT_LIMITS.text} characters`)
    .refine((value) => value.trim().length > 0, "text must not be only white space")
    .refine(
      (value) => !CONTROLS_BUT_NEWLINE.test(value),
      "text must not contain control characters other than line breaks",
    ),
});
export type SendChatMessageInput = z.infer<typeof sendChatMessageInputSchema>;

/** `POST /api/chats/{id}/read`: everything up to `seq` is read (a mark never moves back). */
export const markChatReadInputSchema = z.strictObject({ seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
export type MarkChatReadInput = z.infer<typeof markChatReadInputSchema>;

export const chatReadSchema = z.object({
  object: z.literal("chat_read"),
  chatId: z.string(),
  lastReadSeq: z.number().int(),
  unreadCount: z.number().int(),
});
export type ChatRead = z.infer<typeof chatReadSchema>;

// ── the live connection (GET /api/ws) ────────────────────────────────────────────────────────────────────────────

/** Close code for a missing, late, malformed or refused hello, and for a session that ended while connected. */
export const WS_CLOSE_UNAUTHORIZED = 4401;
/** How long the server waits for the hello frame. */
export const WS_HELLO_TIMEOUT_MS = 5000;

/**
 * The client's first frame. The session token travels here, never in the URL (URLs end up in logs and
 * histories). `afterSeq`: the highest seq the client already has (0 for none); every later message is replayed.
 */
export const wsHelloSchema = z.strictObject({
  type: z.literal("hello"),
  sessionToken: z.string().max(100),
  afterSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type WsHello = z.infer<typeof wsHelloSchema>;

export const wsServerFrameSchema = z.discriminatedUnion("type", [
  /** Authenticated; `seq` is the newest seq of the account's chats (0: none yet). Replay follows. */
  z.object({ type: z.literal("ready"), seq: z.number().int() }),
  z.object({ type: z.literal("chat_message"), message: chatMessageSchema }),
  z.object({ type: z.literal("official_message"), message: officialMessageSchema }),
]);
export type WsServerFrame = z.infer<typeof wsServerFrameSchema>;
