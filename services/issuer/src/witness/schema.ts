/**
 * The witness's tables (drizzle.config.ts reads every context's schema.ts):
 * - `witness_audit_keys`: the pay server's audit key, pinned with the first head accepted (one row per log).
 * - `witnessed_audit_heads`: every signed audit head accepted, by size, kept for good. Nothing here is secret:
 *   heads state sizes, hashes and times, and `GET /issuers/:issuerId/audit-heads` serves them to anyone.
 */
import { bigint, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import type { AuditPublicJwk } from "@mpay/protocol";

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const witnessAuditKeys = pgTable("witness_audit_keys", {
  /** Which log (the pay server's chain name, `main`). */
  chain: text("chain").primaryKey(),
  kid: text("kid").notNull(),
  jwk: jsonb("jwk").$type<AuditPublicJwk>().notNull(),
  pinnedAt: timestamptz("pinned_at").notNull(),
});

export const witnessedAuditHeads = pgTable(
  "witnessed_audit_heads",
  {
    chain: text("chain").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    hash: text("hash").notNull(),
    kid: text("kid").notNull(),
    /** The head itself (compact JWS): what a verifier checks, with the pay server's public key. */
    jws: text("jws").notNull(),
    receivedAt: timestamptz("received_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.chain, t.size] })],
);
