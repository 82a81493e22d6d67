/** A payer's payment PIN (OPAQUE records only), its logins in progress and its resets. */
import { sql } from "drizzle-orm";
import { boolean, index, integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt } from "../db/columns.ts";
import { payers } from "../payers/schema.ts";

/** A payer's payment PIN: the OPAQUE registration record (the server never sees the PIN) and the try counter. */
export const payerPins = pgTable("payer_pins", {
  payerId: text("payer_id")
    .primaryKey()
    .references(() => payers.id),
  registrationRecord: text("registration_record").notNull(),
  /** Tries counted at login start and not yet cleared by a verified finish; 5 means locked. */
  failedTries: integer("failed_tries").notNull().default(0),
  lockedAt: timestamp("locked_at", { withTimezone: true, mode: "date" }),
  /**
   * The record a PIN change replaced, kept for the waiting period: a recovery with the card may prove the PIN as the
   * payer knew it (a thief who saw the PIN and changed it does not keep the account), and then restores it.
   */
  previousRecord: text("previous_record"),
  previousUntil: timestamp("previous_until", { withTimezone: true, mode: "date" }),
  createdAt: createdAt(),
  updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/** The one outstanding PIN login of a payer: the server's OPAQUE state, sealed, single-use, short-lived. */
export const pinLogins = pgTable("pin_logins", {
  payerId: text("payer_id")
    .primaryKey()
    .references(() => payers.id),
  loginId: text("login_id").notNull().unique(),
  sealedState: text("sealed_state").notNull(),
  /** What a success may be used for: `pin-check`, `pin-change`, or `approval:<challengeId>`. */
  purpose: text("purpose").notNull(),
  /** True when the login runs against `payer_pins.previous_record` (a recovery's proof of the PIN before a change). */
  againstPrevious: boolean("against_previous").notNull().default(false),
  expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  createdAt: createdAt(),
});

/**
 * A PIN reset (the payer forgot the PIN, or it is locked), asked from a bound device with the issuer's cardholder
 * check: `verification_required` until the issuer's one-time code is verified (`cardholderCheckId` is the
 * card_enrollments row of that check), then `pending` for the waiting period, announced, cancellable with a PIN
 * proof; then it replaces the PIN and lifts a lock.
 */
export const pinResets = pgTable(
  "pin_resets",
  {
    id: text("id").primaryKey(),
    payerId: text("payer_id")
      .notNull()
      .references(() => payers.id),
    registrationRecord: text("registration_record").notNull(),
    requestedBy: text("requested_by").notNull(),
    status: text("status").$type<"verification_required" | "pending" | "applied" | "canceled">().notNull(),
    cardholderCheckId: text("cardholder_check_id"),
    activatesAt: timestamp("activates_at", { withTimezone: true, mode: "date" }).notNull(),
    createdAt: createdAt(),
    endedAt: timestamp("ended_at", { withTimezone: true, mode: "date" }),
  },
  // One pending reset per payer, whatever the races: the payer's devices must see every reset that could apply.
  (t) => [
    index("pin_resets_payer").on(t.payerId, t.status),
    uniqueIndex("pin_resets_one_pending").on(t.payerId).where(sql`status = 'pending'`),
  ],
);
