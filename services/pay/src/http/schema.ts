/** The idempotency keys of merchant requests (http/idempotency.ts): the first answer, replayed byte for byte. */
import { index, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { createdAt } from "../db/columns.ts";

export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    merchantId: text("merchant_id").notNull(),
    mode: text("mode").$type<"test" | "live">().notNull(),
    route: text("route").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    statusCode: integer("status_code"),
    /** The first answer's exact bytes, so a replay is byte-for-byte the same (jsonb would reorder keys). */
    response: text("response"),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.merchantId, t.mode, t.route, t.key] }),
    index("idempotency_keys_created").on(t.createdAt),
  ],
);
