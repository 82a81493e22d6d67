/**
 * The card vault's tables. What they hold, stated plainly (DESIGN.md "Split
 * custody"): display facts (issuer, brand, last four, expiry month), the issuer's card reference, records the pay
 * server cannot open (sealed on the device under the DEK), and K_srv wrapped by the vault KEK. Never a PAN, a
 * CVC, a DEK or K_dev: a dump of them, even with the KEK, opens no card.
 */
import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { limitSlotsTable } from "@mpay/service-kit";
import { createdAt } from "../db/columns.ts";

export type CardStatus = "awaiting_records" | "active" | "removed";

/** One card enrolled from one device (a card on two devices is two enrollments, two rows, two DEKs). */
export const cards = pgTable(
  "cards",
  {
    id: text("id").primaryKey(),
    payerId: text("payer_id").notNull(),
    /** The device that holds K_dev: the only one that can ever open this row's records. */
    deviceId: text("device_id").notNull(),
    issuerId: text("issuer_id").notNull(),
    /** The issuer's reference of the card account (opaque; never derived from the PAN). */
    cardRef: text("card_ref").notNull(),
    brand: text("brand").notNull(),
    last4: text("last4").notNull(),
    /** `YYYY-MM`. */
    expiryMonth: text("expiry_month").notNull(),
    status: text("status").$type<CardStatus>().notNull(),
    /** Sealed on the device under the DEK (packages/crypto records.ts); opaque here. */
    sealedCard: text("sealed_card"),
    sealedProfile: text("sealed_profile"),
    recordVersion: integer("record_version"),
    /** K_srv sealed by the key provider (purpose vault-k-srv), AAD = payer, card, device, KEK version. */
    wrappedKSrv: text("wrapped_k_srv"),
    /** The KEK version of `wrappedKSrv` (also in the AAD), so rotation finds the rows still on an old one. */
    kekVersion: integer("kek_version"),
    createdAt: createdAt(),
    removedAt: timestamp("removed_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("cards_payer").on(t.payerId),
    index("cards_device").on(t.deviceId),
    index("cards_kek_version").on(t.kekVersion),
    uniqueIndex("cards_one_per_device").on(t.deviceId, t.issuerId, t.cardRef).where(sql`status <> 'removed'`),
  ],
);

/** An enrollment waiting for the cardholder's one-time code at the issuer. */
export const cardEnrollments = pgTable(
  "card_enrollments",
  {
    id: text("id").primaryKey(),
    payerId: text("payer_id").notNull(),
    /** The enrolling device; null for a recovery, whose device is bound only once the issuer verified the cardholder. */
    deviceId: text("device_id"),
    /**
     * `enroll` (a card on a bound device), `recovery` (a new device proves one of the payer's cards again) or
     * `pin-reset` (a bound device proves one of the payer's cards to reset the PIN): the last two are the issuer's
     * cardholder check, which only a card the payer already has here passes.
     */
    purpose: text("purpose").$type<"enroll" | "recovery" | "pin-reset">().notNull().default("enroll"),
    /** For a recovery: the new device's public key and name, bound when the code verifies. */
    recoveryDevice: jsonb("recovery_device").$type<{
      publicKeyJwk: { kty: "EC"; crv: "P-256"; x: string; y: string };
      name: string;
    }>(),
    issuerId: text("issuer_id").notNull(),
    issuerEnrollmentId: text("issuer_enrollment_id").notNull(),
    status: text("status").$type<"verification_required" | "verified" | "failed">().notNull(),
    cardId: text("card_id"),
    /** The address the enrollment came from: the pay server limits enrollments per payer and per address. */
    clientIp: text("client_ip").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("card_enrollments_payer").on(t.payerId, t.createdAt),
    index("card_enrollments_ip").on(t.clientIp, t.createdAt),
  ],
);

/**
 * An unbind the issuer has not acknowledged yet (DESIGN.md "Revocation"): written in the revocation's transaction,
 * sent at once after it, and re-sent by the reconciler until the issuer acknowledges it.
 */
export const deviceUnbinds = pgTable(
  "device_unbinds",
  {
    deviceId: text("device_id").notNull(),
    issuerId: text("issuer_id").notNull(),
    deviceKid: text("device_kid").notNull(),
    status: text("status").$type<"pending" | "acknowledged">().notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    createdAt: createdAt(),
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("device_unbinds_key").on(t.deviceId, t.issuerId),
    index("device_unbinds_due").on(t.nextAttemptAt).where(sql`status = 'pending'`),
  ],
);

/**
 * The enrollment tries claimed per `payer:<id>` and `address:<client IP>` (kind `try`), one row each, before the
 * issuer is asked (enrollment-limits.ts); swept once older than the hour they count in.
 */
export const enrollmentLimitSlots = limitSlotsTable("enrollment_limit_slots");
