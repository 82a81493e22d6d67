/** A payer's passkeys and the WebAuthn challenges the server issued. */
import { bigint, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "../db/columns.ts";
import { payers } from "../payers/schema.ts";

/** A payer's passkeys (WebAuthn, user verification required): the biometric alternative to the PIN. */
export const passkeys = pgTable(
  "passkeys",
  {
    /** The credential id, base64url. */
    id: text("id").primaryKey(),
    payerId: text("payer_id")
      .notNull()
      .references(() => payers.id),
    /** COSE public key, base64url. */
    publicKey: text("public_key").notNull(),
    signCount: bigint("sign_count", { mode: "number" }).notNull().default(0),
    transports: jsonb("transports").$type<string[]>().notNull().default([]),
    deviceType: text("device_type").notNull(),
    backedUp: integer("backed_up").notNull().default(0),
    createdAt: createdAt(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [index("passkeys_payer").on(t.payerId)],
);

/** WebAuthn ceremony challenges issued by the server (registration), single-use and short-lived. */
export const passkeyChallenges = pgTable("passkey_challenges", {
  challenge: text("challenge").primaryKey(),
  payerId: text("payer_id")
    .notNull()
    .references(() => payers.id),
  purpose: text("purpose").notNull(),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  createdAt: createdAt(),
});
