/**
 * The pay company's staff, who use the operator console (issue 10, deliverable 4): separate from merchants' dashboard
 * users, with their own roles, sign-in challenges, sessions and attempt slots.
 */
import { limitSlotsTable } from "@mpay/service-kit";
import { bigint, boolean, index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { createdAt } from "../db/columns.ts";

const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** admin: creates and suspends merchants; support: reads. */
export const STAFF_ROLES = ["support", "admin"] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export const staffMembers = pgTable("staff_members", {
  id: text("id").primaryKey(),
  /** Lower-cased, unique. */
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  role: text("role").$type<StaffRole>().notNull(),
  /** `scrypt$N$r$p$salt$hash` (credentials/password.ts). */
  passwordHash: text("password_hash").notNull(),
  /** The TOTP seed, sealed by the key provider (`staff-totp`); null until confirmed at first sign-in. */
  sealedTotpSecret: text("sealed_totp_secret"),
  /** The last TOTP time step accepted (replay guard). */
  totpLastStep: bigint("totp_last_step", { mode: "number" }),
  disabled: boolean("disabled").notNull().default(false),
  createdAt: createdAt(),
  lastSignInAt: at("last_sign_in_at"),
});

/** Between password and TOTP: single-use, 5 minutes, stored as a hash of the `stc_` token. */
export const staffChallenges = pgTable("staff_challenges", {
  tokenHash: text("token_hash").primaryKey(),
  staffId: text("staff_id")
    .notNull()
    .references(() => staffMembers.id),
  factor: text("factor").$type<"totp" | "totp_setup">().notNull(),
  sealedSetupSecret: text("sealed_setup_secret"),
  failures: integer("failures").notNull().default(0),
  expiresAt: at("expires_at").notNull(),
  usedAt: at("used_at"),
  createdAt: createdAt(),
});

/** Console sessions: only the SHA-256 of the `sts_` token; 8 h absolute, 15 minutes idle. */
export const staffSessions = pgTable(
  "staff_sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    staffId: text("staff_id")
      .notNull()
      .references(() => staffMembers.id),
    expiresAt: at("expires_at").notNull(),
    lastSeenAt: at("last_seen_at").notNull(),
    signedOutAt: at("signed_out_at"),
    createdAt: createdAt(),
  },
  (t) => [index("staff_sessions_staff").on(t.staffId)],
);

/** Sign-in attempts per email (service-kit LimitSlots). */
export const staffSignInSlots = limitSlotsTable("staff_sign_in_slots");
