/** A payer's bound devices and the single-use nonces of their statements. */
import { sql } from "drizzle-orm";
import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "../db/columns.ts";
import { payers } from "../payers/schema.ts";

/**
 * A payer's devices: each holds an ECDSA P-256 key made on the device (non-extractable there); the server keeps
 * the public key. A device is `pending` during the waiting period after another device approved it (or after a
 * recovery without the PIN), `active` once it may pay, `revoked` or `canceled` for good. A recovery without the
 * PIN schedules the revocation of every other device for the moment it takes effect (`revokeAt`, `revokeScheduledBy`).
 */
export const devices = pgTable(
  "devices",
  {
    id: text("id").primaryKey(),
    payerId: text("payer_id")
      .notNull()
      .references(() => payers.id),
    /** RFC 7638 thumbprint of the public key: the `kid` of the device's signatures. */
    keyThumbprint: text("key_thumbprint").notNull().unique(),
    publicKeyJwk: jsonb("public_key_jwk").$type<{ kty: "EC"; crv: "P-256"; x: string; y: string }>().notNull(),
    name: text("name").notNull(),
    status: text("status").$type<"pending" | "active" | "revoked" | "canceled">().notNull(),
    /** When a pending device starts to count as active (the end of the waiting period). */
    activatesAt: timestamp("activates_at", { withTimezone: true, mode: "date" }).notNull(),
    /**
     * How the binding was trusted: `first-sign-in`; `device:<id>+pin` (another device's word and the PIN);
     * `issuer:<id>` (a recovery on the issuer's cardholder check) or `issuer:<id>+pin` (with the PIN as well).
     */
    approvedBy: text("approved_by").notNull(),
    /** When a pending recovery that will revoke this device takes effect; past it, the device counts as revoked. */
    revokeAt: timestamp("revoke_at", { withTimezone: true, mode: "date" }),
    /** The recovering device whose waiting period set `revokeAt` (cancelling that recovery clears it). */
    revokeScheduledBy: text("revoke_scheduled_by"),
    createdAt: createdAt(),
    endedAt: timestamp("ended_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("devices_payer").on(t.payerId),
    index("devices_revoke_due").on(t.revokeAt).where(sql`revoke_at is not null and status in ('active', 'pending')`),
  ],
);

/**
 * Single-use nonces for device statements (issue 7): the server hands one out, the device signs it into the
 * statement, and verifying the statement deletes it, so a statement is good once, not for its five minutes.
 */
export const statementNonces = pgTable(
  "statement_nonces",
  {
    nonce: text("nonce").primaryKey(),
    payerId: text("payer_id").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index("statement_nonces_payer").on(t.payerId, t.createdAt), index("statement_nonces_expiry").on(t.expiresAt)],
);
