/** A device payment: the approval challenge, the approval with fresh user verification, and the issuer's decision. */
import { z } from "zod";
import { approvalTermsSchema } from "../approval.ts";
import { mandateTermsSchema } from "../issuer.ts";
import { SHAREABLE_DETAILS } from "../payer-details.ts";
import { PAYMENT_STATUSES } from "../payment.ts";
import { PAIRING_CODE_PATTERN, shownPaymentFields } from "./checkout.ts";
import { deviceStatementSchema } from "./common.ts";

/** The terms for the card the payer chose (a card of the vault enrolled on this device). */
export const approvalChallengeRequestSchema = z.strictObject({
  deviceKey: z.string().max(64),
  cardId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
});
export type ApprovalChallengeRequest = z.infer<typeof approvalChallengeRequestSchema>;

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

/** Fresh user verification bound to one challenge: a PIN login for `approval:<challengeId>` with the terms' MAC, or a passkey. */
export const userVerificationSchema = z.discriminatedUnion("method", [
  z.strictObject({
    method: z.literal("pin"),
    loginId: z.string().max(64),
    finishLoginRequest: z.string().max(1024),
    challengeMac: z.string().max(128),
  }),
  z.strictObject({ method: z.literal("passkey"), assertion: z.record(z.string(), z.unknown()) }),
]);
export type UserVerificationInput = z.infer<typeof userVerificationSchema>;

export const approveRequestSchema = z.strictObject({
  deviceSignature: deviceStatementSchema,
  /** A P-256 public key the device made for this one payment. */
  releaseKey: z.record(z.string(), z.unknown()),
  verification: userVerificationSchema,
});
export type ApproveRequest = z.infer<typeof approveRequestSchema>;

export const paymentApprovalViewSchema = z.object({
  id: z.string(),
  object: z.literal("payment_approval"),
  paymentId: z.string(),
  method: z.enum(["pin", "passkey"]),
  createdAt: z.string(),
});
export type PaymentApprovalView = z.infer<typeof paymentApprovalViewSchema>;
/** The approval with the card released to the device for the payment (a JWE only its one-time key opens). */
export const releasedApprovalViewSchema = paymentApprovalViewSchema.extend({ release: z.string() });
export type ReleasedApprovalView = z.infer<typeof releasedApprovalViewSchema>;

export const authorizeRequestSchema = z.strictObject({
  /** The device's sign-then-encrypt JWE: the terms and the card, for the issuer only. */
  payment: z.string().max(16_384),
  /** The device-signed card-on-file mandate for the issuer, when the payment asked for one and the payer agreed. */
  mandate: z.string().max(16_384).optional(),
  /** The personal details the payer chose to share with the merchant for this payment (only fields it asked for). */
  sharedDetails: z.record(z.string(), z.unknown()).optional(),
});
export type AuthorizeRequest = z.infer<typeof authorizeRequestSchema>;

/** The payment as the issuer decided it. */
export const paymentOutcomeViewSchema = z.object({
  id: z.string(),
  object: z.literal("payment"),
  status: z.enum(PAYMENT_STATUSES),
  amount: z.number(),
  currency: z.string(),
  declineCode: z.string().nullable(),
  mandate: z.string().nullable(),
});
export type PaymentOutcomeView = z.infer<typeof paymentOutcomeViewSchema>;

/** The card a payment was paid with, as the payer's screens show it (never more of the card than its last four). */
export const paymentCardSchema = z.object({ id: z.string(), last4: z.string(), issuerName: z.string() });
export type PaymentCard = z.infer<typeof paymentCardSchema>;

/**
 * `GET /v1/payer/payments/:id`: a payment as the wallet's pay sheet shows it. Before anyone approved it, any signed-in
 * payer holding its id sees it (the id is the checkout's capability); once approved, only the payer who approved.
 * `card` and `declineCode` are that payer's only.
 */
export const payerPaymentViewSchema = z.object({
  object: z.literal("payment_request"),
  id: z.string(),
  ...shownPaymentFields,
  expiresAt: z.string(),
  /** The same four characters the hosted checkout shows (K7P2). */
  pairingCode: z.string().regex(PAIRING_CODE_PATTERN),
  declineCode: z.string().nullable(),
  card: paymentCardSchema.nullable(),
});
export type PayerPaymentView = z.infer<typeof payerPaymentViewSchema>;

export const payerRefundViewSchema = z.object({
  id: z.string(),
  amount: z.number().int(),
  status: z.string(),
  createdAt: z.string(),
});
export type PayerRefundView = z.infer<typeof payerRefundViewSchema>;

/** One of the payer's receipts: a payment they approved, with the card and its refunds. */
export const payerReceiptSchema = z.object({
  id: z.string(),
  ...shownPaymentFields,
  createdAt: z.string(),
  card: paymentCardSchema.nullable(),
  refundedAmount: z.number().int(),
  refunds: z.array(payerRefundViewSchema),
});
export type PayerReceipt = z.infer<typeof payerReceiptSchema>;

/** `GET /v1/payer/payments?limit=&startingAfter=`: newest first; `startingAfter` is the last id of the page before. */
export const payerReceiptListSchema = z.object({
  object: z.literal("list"),
  data: z.array(payerReceiptSchema),
  hasMore: z.boolean(),
});
export type PayerReceiptList = z.infer<typeof payerReceiptListSchema>;

export const payerReceiptListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  startingAfter: z
    .string()
    .regex(/^pay_[0-9A-HJKMNP-TV-Z]{26}$/, "not a payment id")
    .optional(),
});
export type PayerReceiptListQuery = z.input<typeof payerReceiptListQuerySchema>;
