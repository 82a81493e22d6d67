import type { MandateView } from "@mpay/protocol";
import type { MandateRow } from "./store.ts";

/** A mandate as merchants and payers see it (packages/protocol payer-api/): never the issuer's token. */
export function mandateView(m: MandateRow): MandateView {
  return {
    id: m.id,
    object: "mandate",
    livemode: m.mode === "live",
    merchantId: m.merchantId,
    status: m.status,
    maxAmount: m.maxAmount,
    period: m.period,
    currency: m.currency,
    expiresAt: m.expiresAt.toISOString(),
    paymentId: m.paymentId,
    createdAt: m.createdAt.toISOString(),
    revokedAt: m.revokedAt ? m.revokedAt.toISOString() : null,
  };
}
