/** A merchant, its API keys (only their hashes) and its webhook signing secrets (sealed by the key provider). */
import { index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt } from "../db/columns.ts";

export const merchants = pgTable("merchants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /**
   * What payers see in the wallet; only this registered name is ever shown, never text from a request. Fixed when
   * the merchant is made: MerchantService.displayName keeps it per process, so a statement that changes it must
   * change that too.
   */
  displayName: text("display_name").notNull(),
  /** Origins that returnUrl/cancelUrl may point to, e.g. `https://shop.example`. */
  allowedOrigins: jsonb("allowed_origins").$type<string[]>().notNull().default([]),
  createdAt: createdAt(),
  /** Set while the pay company has suspended the merchant (operator console): its keys and sessions are refused. */
  suspendedAt: timestamp("suspended_at", { withTimezone: true, mode: "date" }),
});

export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    mode: text("mode").$type<"test" | "live">().notNull(),
    kind: text("kind").$type<"secret" | "publishable">().notNull(),
    /** SHA-256 of the whole key: secret keys are never stored, only their hash. */
    keyHash: text("key_hash").notNull(),
    /** Publishable keys are public by design and stored as they are; null for secret keys. */
    publishableKey: text("publishable_key"),
    last4: text("last4").notNull(),
    createdAt: createdAt(),
    /** Set when the key is rolled: the old key keeps working until then, so a merchant can deploy the new one. */
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [uniqueIndex("api_keys_hash").on(t.keyHash), index("api_keys_merchant").on(t.merchantId, t.mode, t.kind)],
);

/** The Standard Webhooks signing secret of a merchant in one mode, sealed by the key provider. */
export const webhookSecrets = pgTable(
  "webhook_secrets",
  {
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    mode: text("mode").$type<"test" | "live">().notNull(),
    sealedSecret: text("sealed_secret").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.merchantId, t.mode] })],
);
