/** The append-only audit log and its signed heads (also protected by triggers in a hand-written migration). */
import { bigint, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

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
 * Every head the key provider signed, one per append (append-only, like the log): `size` entries, the newest one's
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
