/**
 * A merchant's dashboard users, their sign-in challenges, sessions, passkeys and sign-in attempt slots. Users belong
 * to a merchant, not to a mode: the session picks the mode per request (`MPay-Mode`).
 */
import { limitSlotsTable } from "@mpay/service-kit";
import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "../db/columns.ts";
import { merchants } from "../merchants/schema.ts";
import type { MerchantRole } from "../http/caller.ts";

const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const merchantUsers = pgTable(
  "merchant_users",
  {
    id: text("id").primaryKey(),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    /** Lower-cased; unique across merchants, so a sign-in names one user. */
    email: text("email").notNull().unique(),
    name: text("name").notNull(),
    role: text("role").$type<MerchantRole>().notNull(),
    /** `scrypt$N$r$p$salt$hash` (password.ts): the parameters travel with the hash. */
    passwordHash: text("password_hash").notNull(),
    /** The TOTP seed, sealed by the key provider; null until the user confirmed one at first sign-in. */
    sealedTotpSecret: text("sealed_totp_secret"),
    /** The last TOTP time step accepted: a code of that step or an earlier one is refused (replay guard). */
    totpLastStep: bigint("totp_last_step", { mode: "number" }),
    disabled: boolean("disabled").notNull().default(false),
    createdAt: createdAt(),
    lastSignInAt: at("last_sign_in_at"),
  },
  (t) => [index("merchant_users_merchant").on(t.merchantId)],
);

/** The step between password and second factor: single-use, 5 minutes, stored as a hash of the `dsc_` token. */
export const merchantUserChallenges = pgTable("merchant_user_challenges", {
  tokenHash: text("token_hash").primaryKey(),
  userId: text("user_id")
    .notNull()
    .references(() => merchantUsers.id),
  factor: text("factor").$type<"totp" | "totp_setup">().notNull(),
  /** For `totp_setup`: the new seed offered, sealed; it becomes the user's once a code from it is confirmed. */
  sealedSetupSecret: text("sealed_setup_secret"),
  /** Wrong codes sent on this challenge; at 5 it is spent. */
  failures: integer("failures").notNull().default(0),
  expiresAt: at("expires_at").notNull(),
  usedAt: at("used_at"),
  createdAt: createdAt(),
});

/** Dashboard sessions: only the SHA-256 of the `mds_` token is stored. */
export const merchantUserSessions = pgTable(
  "merchant_user_sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => merchantUsers.id),
    /** Absolute end (12 h after sign-in). */
    expiresAt: at("expires_at").notNull(),
    /** Idle end moves forward on each request (30 minutes after the last). */
    lastSeenAt: at("last_seen_at").notNull(),
    signedOutAt: at("signed_out_at"),
    createdAt: createdAt(),
  },
  (t) => [index("merchant_user_sessions_user").on(t.userId)],
);

/** A dashboard user's passkeys (WebAuthn, discoverable, user verification required). */
export const merchantUserPasskeys = pgTable(
  "merchant_user_passkeys",
  {
    /** The credential id, base64url. */
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => merchantUsers.id),
    /** COSE public key, base64url. */
    publicKey: text("public_key").notNull(),
    signCount: bigint("sign_count", { mode: "number" }).notNull().default(0),
    transports: jsonb("transports").$type<string[]>().notNull().default([]),
    createdAt: createdAt(),
  },
  (t) => [index("merchant_user_passkeys_user").on(t.userId)],
);

/** WebAuthn challenges: registration (for a signed-in user) and discoverable sign-in (no user yet). */
export const merchantUserPasskeyChallenges = pgTable("merchant_user_passkey_challenges", {
  challenge: text("challenge").primaryKey(),
  userId: text("user_id").references(() => merchantUsers.id),
  purpose: text("purpose").$type<"register" | "sign_in">().notNull(),
  expiresAt: at("expires_at").notNull(),
  createdAt: createdAt(),
});

/** Sign-in attempts per email, claimed before the password is checked (service-kit LimitSlots). */
export const merchantUserSignInSlots = limitSlotsTable("merchant_user_sign_in_slots");
