/**
 * A device payment: the approval challenge, the approval with fresh user verification, the issuer's decision; and
 * the payer's view of payments (the pay sheet's payment, the receipts).
 */
import {
  approvalChallengeViewSchema,
  payerPaymentViewSchema,
  payerReceiptListSchema,
  paymentOutcomeViewSchema,
  releasedApprovalViewSchema,
  type ApprovalChallengeRequest,
  type ApprovalChallengeView,
  type ApproveRequest,
  type PaymentApprovalView,
  type PayerPaymentView,
  type PayerReceipt,
  type PayerReceiptList,
  type PaymentOutcomeView,
  type ReleasedApprovalView,
  type SharedDetails,
  type UserVerificationInput,
} from "@mpay/protocol";
import { segment, type PayRequester } from "./request.ts";

/** The protocol's terms (checked against its schema): all a wallet may show, and exactly what it signs. */
export type ApprovalChallenge = ApprovalChallengeView;
export type PaymentApproval = PaymentApprovalView;
/** The approval with the card released to this device for the payment (a JWE only this device's one-time key opens). */
export type ReleasedApproval = ReleasedApprovalView;
/** The payment as the issuer decided it. */
export type PaymentOutcome = PaymentOutcomeView;
export type UserVerification = UserVerificationInput;
/** A payment as the pay sheet shows it (its `card` and `declineCode` only to the payer who approved it). */
export type PayerPayment = PayerPaymentView;
/** One of the payer's receipts: a payment they approved, with its card's last four and its refunds. */
export type Receipt = PayerReceipt;
export type ReceiptList = PayerReceiptList;

export class Payments {
  readonly #core: PayRequester;

  constructor(core: PayRequester) {
    this.#core = core;
  }

  /**
   * A payment as the pay sheet shows it: before anyone approved it, to any signed-in payer holding its id; once
   * approved, only to the payer who approved (anyone else gets `payment_not_found`).
   */
  get(paymentId: string): Promise<PayerPayment> {
    return this.#core.request("GET", `/v1/payer/payments/${segment(paymentId)}`, payerPaymentViewSchema);
  }

  /** The payer's receipts, newest first; pass the last id of a page as `startingAfter` for the next one. */
  list(options: { limit?: number; startingAfter?: string } = {}): Promise<ReceiptList> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.startingAfter !== undefined) query.set("startingAfter", options.startingAfter);
    const search = query.toString() === "" ? "" : `?${query.toString()}`;
    return this.#core.request("GET", `/v1/payer/payments${search}`, payerReceiptListSchema);
  }

  /** The terms of `paymentId` for this device and the chosen card, fixed by the server for at most 5 minutes. */
  approvalChallenge(paymentId: string, input: ApprovalChallengeRequest): Promise<ApprovalChallenge> {
    const { deviceKey, cardId } = input;
    return this.#core.request(
      "POST",
      `/v1/payer/payments/${segment(paymentId)}/approval-challenges`,
      approvalChallengeViewSchema,
      { deviceKey, cardId },
    );
  }

  /**
   * Sends the device's signature over the challenge's terms with fresh user verification bound to the challenge,
   * and the public half of a key made for this payment: the answer releases the card to it.
   */
  approve(challengeId: string, input: ApproveRequest): Promise<ReleasedApproval> {
    return this.#core.request(
      "POST",
      `/v1/payer/approval-challenges/${segment(challengeId)}/approve`,
      releasedApprovalViewSchema,
      {
        deviceSignature: input.deviceSignature,
        verification: input.verification,
        releaseKey: input.releaseKey,
      },
    );
  }

  /**
   * Sends the sign-then-encrypt JWE for the issuer (and the mandate's, when the payer agreed to one); answers with
   * the payment as the issuer decided it.
   */
  authorize(
    approvalId: string,
    payment: string,
    extras: { mandate?: string | undefined; sharedDetails?: SharedDetails | undefined } = {},
  ): Promise<PaymentOutcome> {
    const { mandate, sharedDetails } = extras;
    return this.#core.request(
      "POST",
      `/v1/payer/approvals/${segment(approvalId)}/authorize`,
      paymentOutcomeViewSchema,
      {
        payment,
        ...(mandate !== undefined ? { mandate } : {}),
        ...(sharedDetails !== undefined ? { sharedDetails } : {}),
      },
    );
  }
}
