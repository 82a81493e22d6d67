/**
 * The inbox's table: `test_inbox`, the simulator's "phones": one-time codes as an SMS would carry them (only when
 * the inbox is on).
 */
import { bigserial, index, pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz } from "../db/columns.ts";

export const testInbox = pgTable(
  "test_inbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    phone: text("phone").notNull(),
    text: text("text").notNull(),
    code: text("code").notNull(),
    sentAt: timestamptz("sent_at").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
  },
  (t) => [index("test_inbox_phone").on(t.phone, t.sentAt)],
);
