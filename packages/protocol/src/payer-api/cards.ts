/** The payer's cards: the issuers to enroll with, enrollment through the issuer, the sealed records, removal. */
import { z } from "zod";
import { CARD_BRANDS } from "../issuer.ts";
import { deviceStatementSchema, issuerJweSchema, listOf, oneTimeCodeSchema } from "./common.ts";

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
export const cardListSchema = listOf(cardViewSchema);

/** A card issuer with its network certificate: the wallet verifies it against the roots it ships with before any use. */
export const issuerListingViewSchema = z.object({ issuerId: z.string(), name: z.string(), certificate: z.string() });
export type IssuerListingView = z.infer<typeof issuerListingViewSchema>;
export const issuerListSchema = listOf(issuerListingViewSchema);

/**
 * The wallet's enrollment JWE (PAN, expiry, CVC and the device key, encrypted to the issuer's certified key), and
 * `{ purpose: "enroll-card", payerId, issuerId, enrollmentHash, nonce }` signed by an active device.
 */
export const cardEnrollmentRequestSchema = z.strictObject({
  issuerId: z.string().max(32),
  enrollment: issuerJweSchema,
  deviceSignature: deviceStatementSchema,
});
export type CardEnrollmentRequest = z.infer<typeof cardEnrollmentRequestSchema>;
export const cardEnrollmentViewSchema = z.object({
  id: z.string(),
  object: z.literal("card_enrollment"),
  status: z.string(),
  codeSentTo: z.string(),
  expiresAt: z.string(),
});
export type CardEnrollmentView = z.infer<typeof cardEnrollmentViewSchema>;

export const cardEnrollmentVerifyRequestSchema = z.strictObject({ code: oneTimeCodeSchema });

/** The card's records sealed on the device under the DEK, and the server's share K_srv; signed by the card's device. */
export const cardRecordsRequestSchema = z.strictObject({
  sealedCard: z.string().max(8192),
  sealedProfile: z.string().max(8192).optional(),
  recordVersion: z.number().int().min(1).max(1_000_000_000),
  kSrv: z.string().max(64),
  deviceSignature: deviceStatementSchema,
});
export type CardRecordsRequest = z.infer<typeof cardRecordsRequestSchema>;

/** `{ purpose: "remove-card", payerId, cardId }` signed by an active device. */
export const removeCardRequestSchema = z.strictObject({ deviceSignature: deviceStatementSchema });
