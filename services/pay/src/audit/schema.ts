/** The append-only audit log and its signed heads (also protected by triggers in a hand-written migration). */
import { bigint, bigserial, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

export const auditLog = pgTable("audit_log", {
  /** The entry's identity; it is part of the hashed fields (a separate id column would not be). */
  seq: bigint("seq", { mode: "number" }).primaryKey(),
  at: text("at").notNull(),
  actor: text("actor").notNull(),
  action: text("action").notNull(),
  target: text("target"),
  data: jsonb("data").$type<Record<string, unknown>>().notNull(),
  prevHash: text("prev_hash").notNull(),
  hash: text("hash").notNull(),
});

/**
 * Every head the key provider signed, one per sealed batch (append-only, like the log): `size` entries, the newest one's
 * `hash`, signed as a JWS (`jws`, packages/protocol audit.ts) under the audit key `kid`. The columns repeat what
 * the JWS states, for queries; verification reads the JWS only.
 */
export const auditSignedHeads = pgTable(
  "audit_signed_heads",
  {
    chain: text("chain").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    hash: text("hash").notNull(),
    signedAt: timestamp("signed_at", { withTimezone: true, mode: "date" }).notNull(),
    kid: text("kid").notNull(),
    jws: text("jws").notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.size] })],
);

/**
 * Legacy: the newest head of each chain as it was before heads were signed, MACed by the key provider. No longer
 * written; its MAC is checked once, by the first append after the upgrade, before the first signed head extends it.
 */
export const auditHeads = pgTable("audit_heads", {
  chain: text("chain").primaryKey(),
  seq: bigint("seq", { mode: "number" }).notNull(),
  hash: text("hash").notNull(),
  tag: text("tag").notNull(),
  keyVersion: integer("key_version").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * Entries appended but not yet in the chain (group commit, service.ts): `append` inserts here inside the caller's
 * transaction, and the sealer moves them into `audit_log` in batches, one signed head per batch. No seq and no
 * hash yet: the chain order is the order the sealer takes them in (by `id` within a batch). Rows are never
 * updated (a trigger refuses it); the sealer deletes the rows it links.
 */
export const auditPending = pgTable("audit_pending", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  /** The append's time (ISO, the service's clock): the entry's `at` in the chain. */
  at: text("at").notNull(),
  actor: text("actor").notNull(),
  action: text("action").notNull(),
  target: text("target"),
  data: jsonb("data").$type<Record<string, unknown>>().notNull(),
});
