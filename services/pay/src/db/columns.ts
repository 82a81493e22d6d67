/**
 * Column builders every context's schema shares. The pay server's tables live beside the code that owns them
 * (`src/<context>/schema.ts`; drizzle.config.ts reads them all as one schema and one migration history). Every
 * table that grows with traffic carries `merchant_id` (or the payer's id, later) so that it can be distributed by it
 * (DESIGN.md "Storage"). Money columns are int8 minor units; amounts are capped per currency (packages/protocol
 * currency.ts) so they stay exact as JS numbers.
 *
 * Append-only tables (ledger, audit) are also protected by triggers in a hand-written migration.
 */
import { bigint, timestamp } from "drizzle-orm/pg-core";

export const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
export const money = (name: string) => bigint(name, { mode: "number" });
