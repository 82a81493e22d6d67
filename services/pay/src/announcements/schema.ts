/**
 * The announcements outbox: one row per message MPay tells a payer in the messenger,
 * written in the transaction of the change it tells of, so the message exists if and only if the change committed.
 * The row holds the rendered message and its facts (the same bytes on every attempt) and its delivery state; never a
 * secret.
 */
import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export type AnnouncementStatus = "pending" | "delivered" | "failed";

export const announcements = pgTable(
  "announcements",
  {
    /** `ann_…`: the message's id at the messenger too, which makes every re-send idempotent there. */
    id: text("id").primaryKey(),
    /** The payer's id (no foreign key, as its migration made it). */
    payerId: text("payer_id").notNull(),
    /** The payer's messenger account (`acct_…`), copied at announce time: the sender reads no other table. */
    messengerSubject: text("messenger_subject").notNull(),
    kind: text("kind").notNull(),
    text: text("text").notNull(),
    actions: jsonb("actions").$type<Array<{ label: string; action: string }>>().notNull(),
    /** The facts the messenger app renders in the reader's language; null on rows written before it existed. */
    params: jsonb("params").$type<Record<string, string | number>>(),
    /** `pending` until the messenger stores it; `failed` only when the messenger refuses it for good. */
    status: text("status").$type<AnnouncementStatus>().notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** Due again from then; a claim moves it past its lease, so a sender that dies mid-send leaves it due by itself. */
    nextAttemptAt: timestamptz("next_attempt_at").notNull().defaultNow(),
    /** A short code (`unreachable`, `timeout`, `http_503`, the messenger's error code): never an answer body. */
    lastError: text("last_error"),
    createdAt: timestamptz("created_at").notNull(),
    deliveredAt: timestamptz("delivered_at"),
  },
  (t) => [
    index("announcements_due").on(t.nextAttemptAt).where(sql`status = 'pending'`),
    index("announcements_payer").on(t.payerId, t.createdAt),
  ],
);
