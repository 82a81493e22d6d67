/**
 * Chats between messenger accounts (issue 9), direct (two members) and group.
 *
 * - `chats`: `direct_key` is the two members' ids, sorted and joined, for direct chats only: unique, so two
 *   people have one direct chat however many times (and however simultaneously) it is opened. `last_seq` and
 *   `last_activity_at` follow the newest message, for the list's order and its last message.
 * - `chat_members`: who is in a chat, and each member's read mark (`last_read_seq`, the highest seq read).
 * - `chat_messages`: stored before anyone is told of them. `seq` is one sequence for the whole messenger, taken
 *   while a transaction-level lock is held until commit (chats/store.ts), so seqs become visible in their order:
 *   a client that has seq N has every earlier message of its chats, and "everything after N" is a complete replay.
 *   Idempotent on (`sender_id`, `client_message_id`): a resend finds the stored message.
 * - `chat_send_slots`: messages sent per account in a sliding window (service-kit's LimitSlots).
 */
import { bigint, bigserial, index, pgTable, primaryKey, text, timestamp, unique } from "drizzle-orm/pg-core";
import { limitSlotsTable } from "@mpay/service-kit";
import { accounts } from "../db/schema.ts";

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const chats = pgTable("chats", {
  id: text("id").primaryKey(),
  /** `direct` | `group` (chats/service.ts). */
  kind: text("kind").$type<"direct" | "group">().notNull(),
  title: text("title"),
  directKey: text("direct_key").unique("chats_direct_key"),
  createdBy: text("created_by")
    .notNull()
    .references(() => accounts.id),
  createdAt: timestamptz("created_at").notNull().defaultNow(),
  lastSeq: bigint("last_seq", { mode: "number" }).notNull().default(0),
  lastActivityAt: timestamptz("last_activity_at").notNull().defaultNow(),
});

export const chatMembers = pgTable(
  "chat_members",
  {
    chatId: text("chat_id")
      .notNull()
      .references(() => chats.id),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    lastReadSeq: bigint("last_read_seq", { mode: "number" }).notNull().default(0),
    joinedAt: timestamptz("joined_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "chat_members_pkey", columns: [t.chatId, t.accountId] }),
    index("chat_members_account").on(t.accountId, t.chatId),
  ],
);

export const chatMessages = pgTable(
  "chat_messages",
  {
    id: text("id").primaryKey(),
    seq: bigserial("seq", { mode: "number" }).notNull().unique("chat_messages_seq"),
    chatId: text("chat_id")
      .notNull()
      .references(() => chats.id),
    senderId: text("sender_id")
      .notNull()
      .references(() => accounts.id),
    clientMessageId: text("client_message_id").notNull(),
    text: text("text").notNull(),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (t) => [
    unique("chat_messages_client_id").on(t.senderId, t.clientMessageId),
    index("chat_messages_chat").on(t.chatId, t.seq),
  ],
);

export const chatSendSlots = limitSlotsTable("chat_send_slots");
