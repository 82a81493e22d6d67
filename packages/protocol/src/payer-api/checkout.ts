/**
 * The hosted checkout (apps/web `/checkout/:paymentId`, issue 9): what the page shows of a payment, and the push of
 * the payment to the payer's phone. No session: the payment id (80 random bits) is the capability, as the checkout
 * URL the merchant sent the payer to.
 */
import { z } from "zod";
import { PAYMENT_STATUSES } from "../payment.ts";

/** A short code shown on the checkout and in the phone's pay sheet: the payer sees they are the same payment. */
export const PAIRING_CODE_PATTERN = /^[2-9A-HJ-NP-Z]{4}$/;

/**
 * What every payer-facing view shows of a payment (the checkout, the pay sheet, a receipt): its state, who asks, for
 * what and how much. The merchant is its registered display name, never text from the payment request.
 */
export const shownPaymentFields = {
  status: z.enum(PAYMENT_STATUSES),
  merchant: z.object({ name: z.string() }),
  itemName: z.string(),
  amount: z.number().int(),
  currency: z.string(),
};

export const checkoutViewSchema = z.object({
  object: z.literal("checkout"),
  paymentId: z.string(),
  ...shownPaymentFields,
  /** Until when the payer may approve. */
  expiresAt: z.string(),
  pairingCode: z.string().regex(PAIRING_CODE_PATTERN),
  mode: z.enum(["test", "live"]),
  /**
   * Where the page sends the payer once the payment is decided: null while it awaits approval, else the merchant's
   * returnUrl (authorized, captured) or cancelUrl (declined, canceled, expired) with `paymentId` and `status` added.
   */
  redirectUrl: z.string().nullable(),
});
export type CheckoutView = z.infer<typeof checkoutViewSchema>;

export const checkoutParamsSchema = z.strictObject({
  paymentId: z.string().regex(/^pay_[0-9A-HJKMNP-TV-Z]{26}$/, "not a payment id"),
});

/** The payer's phone number as typed: international format, separators allowed (`+82 10-1234-5678`). */
export const checkoutPushRequestSchema = z.strictObject({ phoneNumber: z.string().max(64) });
export type CheckoutPushRequest = z.infer<typeof checkoutPushRequestSchema>;

/** The same answer whether or not the number has an MPay account: a checkout cannot be used to find out. */
export const checkoutPushViewSchema = z.object({
  object: z.literal("checkout_push"),
  pairingCode: z.string().regex(PAIRING_CODE_PATTERN),
  /** Masked: `+82 10-****-5678`. */
  phoneNumber: z.string(),
});
export type CheckoutPushView = z.infer<typeof checkoutPushViewSchema>;
