/** The payment as the hosted checkout shows it (packages/protocol payer-api/checkout.ts). */
import type { CheckoutView, PaymentStatus } from "@mpay/protocol";
import type { PaymentRow } from "../payments/service.ts";
import { pairingCode } from "./pairing-code.ts";

const RETURN: ReadonlySet<PaymentStatus> = new Set(["authorized", "captured"]);
const CANCEL: ReadonlySet<PaymentStatus> = new Set(["declined", "canceled", "expired"]);

/**
 * Where the checkout sends the payer once the payment is decided: the merchant's returnUrl (authorized, captured)
 * or cancelUrl (declined, canceled, expired), registered on the merchant's origins when the payment was made, with
 * `paymentId` and `status` added so the merchant's page knows which payment came back. Null while undecided, and
 * for a payment made with no URLs (an off-session mandate charge).
 */
export function redirectUrl(payment: PaymentRow): string | null {
  const status = payment.status as PaymentStatus;
  const base = RETURN.has(status) ? payment.returnUrl : CANCEL.has(status) ? payment.cancelUrl : "";
  if (base === "") return null;
  const url = new URL(base);
  url.searchParams.set("paymentId", payment.id);
  url.searchParams.set("status", status);
  return url.href;
}

export function checkoutView(payment: PaymentRow, merchantName: string): CheckoutView {
  return {
    object: "checkout",
    paymentId: payment.id,
    status: payment.status as PaymentStatus,
    merchant: { name: merchantName },
    itemName: payment.itemName,
    amount: payment.amount,
    currency: payment.currency,
    expiresAt: payment.approvalExpiresAt.toISOString(),
    pairingCode: pairingCode(payment.id),
    mode: payment.mode,
    redirectUrl: redirectUrl(payment),
  };
}
