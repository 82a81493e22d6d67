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
