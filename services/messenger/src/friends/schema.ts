/**
 * Friends: `friends` holds one row per (account, friend) the account added by phone number. A friendship is one
 * way, as in an address book: adding someone puts them in your list (and lets you start chats with them), not you
 * in theirs.
 *
 * `friend_lookup_slots`: every add is a phone-number lookup, so each claims a slot per account before the lookup
 * (service-kit's LimitSlots): nobody can walk the number space to learn who has an account.
 */
import { index, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { limitSlotsTable } from "@mpay/service-kit";
import { accounts } from "../db/schema.ts";

export const friends = pgTable(
  "friends",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    friendId: text("friend_id")
      .notNull()
      .references(() => accounts.id),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "friends_pkey", columns: [t.accountId, t.friendId] }),
    index("friends_friend").on(t.friendId),
  ],
);

export const friendLookupSlots = limitSlotsTable("friend_lookup_slots");
