/**
 * Where one-time codes go. A real issuer hands them to an SMS gateway; this simulator has none, so with the test
 * inbox on it keeps each message in the issuer's database for `GET /test-inbox` to show (the simulator's
 * "phone"), and with it off the code goes nowhere and enrollment cannot finish. Either way no code is logged.
 */
import { and, desc, eq } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { testInbox } from "./schema.ts";

export interface CodeMessage {
  phone: string;
  code: string;
  text: string;
  expiresAt: Date;
}

export interface CodeSender {
  send(db: Executor, message: CodeMessage, now: Date): Promise<void>;
}

export const testInboxSender: CodeSender = {
  async send(db, message, now) {
    await db.insert(testInbox).values({
      phone: message.phone,
      code: message.code,
      text: message.text,
      sentAt: now,
      expiresAt: message.expiresAt,
    });
  },
};

export const noSender: CodeSender = {
  async send() {},
};

export type InboxRow = typeof testInbox.$inferSelect;

export async function inboxOf(db: Executor, phone: string, limit = 20): Promise<InboxRow[]> {
  return db
    .select()
    .from(testInbox)
    .where(and(eq(testInbox.phone, phone)))
    .orderBy(desc(testInbox.sentAt), desc(testInbox.id))
    .limit(limit);
}
