/**
 * The hosted checkout (issue 9): what the checkout page shows of a payment, and the push of the payment to the
 * payer's phone as a message from MPay in the messenger. No session: the payment id is the capability.
 *
 * push: validate the number → load the payment → it must await approval → claim the limits (before anything is
 * sent) → find the payer by number → write the announcement (the outbox retries delivery) → send it soon. The answer
 * is the same whether or not the number has an MPay account, so the checkout cannot be used to find out who does.
 */
import type { Clock } from "@mpay/service-kit";
import { maskPhoneNumber, normalizePhoneNumber, type CheckoutPushView, type CheckoutView } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { AnnouncementService } from "../announcements/service.ts";
import type { MerchantService } from "../merchants/service.ts";
import type { PayerService } from "../payers/service.ts";
import type { PaymentRow, PaymentService } from "../payments/service.ts";
import { pairingCode } from "./pairing-code.ts";
import type { PushLimiter } from "./push-limits.ts";
import { checkoutView } from "./view.ts";

/** A push over a limit: answered 429 with `Retry-After`. */
export class PushRateLimited extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      "push_rate_limited",
      "Too many payment requests were sent to this phone number, from this address or for this payment; try again later.",
    );
  }
}

export class CheckoutService {
  constructor(
    private readonly db: Db,
    private readonly payments: PaymentService,
    private readonly merchants: MerchantService,
    private readonly payers: PayerService,
    private readonly announcements: AnnouncementService,
    private readonly limiter: PushLimiter,
    private readonly clock: Clock,
  ) {}

  /**
   * The checkout's view of a payment. A payment whose approval window has passed is expired here and now (as the
   * expiry worker would do on its next round), so the page never offers to pay what can no longer be paid.
   */
  async view(paymentId: string): Promise<CheckoutView> {
    const payment = await this.#current(await this.#payment(paymentId));
    return checkoutView(payment, await this.#merchantName(payment));
  }

  async push(paymentId: string, phoneNumberInput: string, clientAddress: string): Promise<CheckoutPushView> {
    const phoneNumber = normalizePhoneNumber(phoneNumberInput);
    if (!phoneNumber)
      throw new ApiError(
        "phone_number_invalid",
        "phoneNumber must be a phone number in international format, such as +82 10-1234-5678.",
        "phoneNumber",
      );
    const payment = await this.#payment(paymentId);
    if (payment.status !== "requires_approval" || payment.approvalExpiresAt.getTime() <= this.clock.now().getTime())
      throw new ApiError("payment_not_pending", "This payment no longer awaits approval; nothing was sent.");
    const retryAfter = await this.limiter.claim(phoneNumber, clientAddress, payment.id);
    if (retryAfter !== null) throw new PushRateLimited(retryAfter);
    const code = pairingCode(payment.id);
    const payer = await this.payers.byPhoneNumber(phoneNumber);
    if (payer) {
      const merchantName = await this.#merchantName(payment);
      const announced = await this.db.transaction((tx) =>
        this.announcements.announce(tx, payer.id, {
          kind: "payment_request",
          paymentId: payment.id,
          merchantName,
          itemName: payment.itemName,
          amount: payment.amount,
          currency: payment.currency,
          pairingCode: code,
        }),
      );
      this.announcements.sendSoon(announced);
    }
    return { object: "checkout_push", pairingCode: code, phoneNumber: maskPhoneNumber(phoneNumber) };
  }

  async #payment(paymentId: string): Promise<PaymentRow> {
    const payment = /^pay_[0-9A-Z]{26}$/.test(paymentId) ? await this.payments.byId(this.db, paymentId) : null;
    if (!payment) throw new ApiError("payment_not_found", "No such payment.", "paymentId");
    return payment;
  }

  async #current(payment: PaymentRow): Promise<PaymentRow> {
    if (payment.status !== "requires_approval" || payment.approvalExpiresAt.getTime() > this.clock.now().getTime())
      return payment;
    const expired = await this.db.transaction((tx) => this.payments.expireOne(tx, payment.id));
    return expired ?? payment;
  }

  async #merchantName(payment: PaymentRow): Promise<string> {
    const merchant = await this.merchants.get(payment.merchantId);
    if (!merchant) throw new ApiError("payment_not_found", "No such payment.", "paymentId");
    return merchant.displayName;
  }
}
