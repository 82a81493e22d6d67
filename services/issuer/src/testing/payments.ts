/** An approved payment in one call, for tests of what follows an authorization (captures, refunds, settlement). */
import type { EnrolledCard } from "@mpay/protocol";
import type { TestCard } from "../cards/test-cards.ts";
import type { TestDevice } from "./device.ts";
import { authorize, paymentRequest, termsFor } from "./flows.ts";
import type { TestHost } from "./host.ts";

export async function approvedPayment(
  host: TestHost,
  device: TestDevice,
  card: TestCard,
  enrolled: EnrolledCard,
  options: { amount?: number; merchantId?: string; merchantName?: string } = {},
): Promise<string> {
  const terms = termsFor(host, card.issuerId, enrolled.cardRef, {
    amount: options.amount ?? 35_000,
    merchantId: options.merchantId ?? "mch_demo",
    merchantName: options.merchantName ?? "Demo Mall",
  });
  const answer = await authorize(host, card.issuerId, await paymentRequest(host, device, card, terms));
  if (answer.body.decision !== "approved") throw new Error(`payment not approved: ${answer.text}`);
  return terms.paymentId;
}
