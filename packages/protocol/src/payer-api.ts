/**
 * Answers of the payer API that the pay server sends and the wallet checks: defined once, so the server's route
 * schemas (and its OpenAPI document) and the wallet's parsing cannot drift apart.
 */
import { z } from "zod";
import { approvalTermsSchema } from "./approval.ts";
import { CARD_BRANDS, mandateTermsSchema } from "./issuer.ts";
import { mandatePeriodSchema } from "./mandate-period.ts";
import { SHAREABLE_DETAILS } from "./payer-details.ts";

/** What the payer's screens show of a card: never more than issuer, brand, last four and expiry month. */
export const cardViewSchema = z.object({
  id: z.string(),
  object: z.literal("card"),
  issuerId: z.string(),
  /** The issuer's reference of the card: the `cardRef` of the terms a payment with it shows. */
  cardRef: z.string(),
  brand: z.enum(CARD_BRANDS),
  last4: z.string(),
  expiryMonth: z.string(),
  status: z.enum(["awaiting_records", "active", "removed"]),
  deviceId: z.string(),
  recordVersion: z.number().nullable(),
  createdAt: z.string(),
});
export type CardView = z.infer<typeof cardViewSchema>;

/** A card-on-file mandate as merchants and payers see it: never the issuer's token. */
export const mandateViewSchema = z.object({
  id: z.string(),
  object: z.literal("mandate"),
  livemode: z.boolean(),
  merchantId: z.string(),
  status: z.enum(["active", "revoked"]),
  maxAmount: z.number().int(),
  /**
   * The most charges and the most money per period the payer signed; the issuer declines a charge beyond them
   * (`mandate_limit_exceeded`). Null only for a mandate given before schedules were signed: its issuer declines it.
   */
  period: mandatePeriodSchema.nullable(),
  currency: z.string(),
  /** The end date: charges after it are declined (`token_expired`). */
  expiresAt: z.string(),
  /** The payment the payer approved it with. */
  paymentId: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
export type MandateView = z.infer<typeof mandateViewSchema>;

export const approvalChallengeViewSchema = z.object({
  id: z.string(),
  object: z.literal("approval_challenge"),
  terms: approvalTermsSchema,
  /** A card-on-file mandate the merchant asks for with this payment: shown beside the terms, signed for the issuer. */
  mandate: mandateTermsSchema.nullable(),
  /** Personal details the merchant asks the payer to share for this payment. */
  collect: z.array(z.enum(SHAREABLE_DETAILS)),
  expiresAt: z.string(),
});
export type ApprovalChallengeView = z.infer<typeof approvalChallengeViewSchema>;

/**
 * A change waiting to take effect that the payer must be able to see and stop (DESIGN.md "the power order"): a new
 * device, a recovery (which revokes the payer's other devices when it takes effect) or a PIN reset. Each is
 * announced in the messenger; a PIN proof cancels it.
 */
export const pendingChangeViewSchema = z.object({
  id: z.string(),
  object: z.literal("pending_change"),
  kind: z.enum(["device", "recovery", "pin_reset"]),
  activatesAt: z.string(),
  /** The device waiting (a new device or a recovery's), or the device that asked for a PIN reset. */
  deviceId: z.string(),
  deviceName: z.string(),
  /** What vouched for it: `device:<id>` (another device with the PIN) or `issuer:<id>` (the card's issuer). */
  requestedBy: z.string(),
  /** True for a recovery: when it takes effect, every other device of the payer is revoked. */
  revokesOtherDevices: z.boolean(),
  createdAt: z.string(),
});
export type PendingChangeView = z.infer<typeof pendingChangeViewSchema>;

/** A finished OPAQUE login sent with a security change: the proof that the payer knows the PIN, for that change. */
export const pinProofSchema = z.strictObject({
  loginId: z.string().max(64),
  finishLoginRequest: z.string().min(1).max(1024).regex(/^[A-Za-z0-9_-]+$/, "not a base64url OPAQUE message"),
});
export type PinProofInput = z.infer<typeof pinProofSchema>;

/** A single-use nonce for the next device statement (each statement spends one). */
export const statementNonceViewSchema = z.object({ object: z.literal("statement_nonce"), nonce: z.string(), expiresAt: z.string() });
export type StatementNonceView = z.infer<typeof statementNonceViewSchema>;

/**
 * What a PIN login proves the PIN for: a check, a change, one payment's approval, adding a passkey, or one security
 * change named with its target — binding a device (`bind-device:<key thumbprint>`), revoking another
 * (`revoke-device:<id>`), cancelling a pending binding or recovery (`cancel-device:<id>`) or PIN reset
 * (`cancel-pin-reset:<id>`), finishing a recovery at once (`recovery:<id>`). A proof for one target is worthless
 * for another.
 */
export type PinLoginPurpose =
  | "pin-check"
  | "pin-change"
  | "add-passkey"
  | `approval:${string}`
  | `bind-device:${string}`
  | `revoke-device:${string}`
  | `cancel-device:${string}`
  | `cancel-pin-reset:${string}`
  | `recovery:${string}`;

/** The purposes a login may name on the wire (the id part is a plain identifier). */
export const PIN_LOGIN_PURPOSE_PATTERN = /^(pin-check|pin-change|add-passkey|(approval|bind-device|revoke-device|cancel-device|cancel-pin-reset|recovery):[A-Za-z0-9_-]{1,64})$/;
