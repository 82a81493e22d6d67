/**
 * Personal details a payer shared with a merchant for one payment (issue 4, deliverable 6). They were opened on the
 * payer's device from the sealed personal record; the pay server sees them in transit (DESIGN.md says so plainly),
 * keeps them only sealed by the key provider (AAD = the payment), checks they are only what the merchant asked
 * for, and opens them only for that merchant's own `GET /v1/payments/:id` — never in a list, an event or a webhook.
 */
import { sharedDetailsSchema, type SharedDetails } from "@mpay/protocol";
import { ApiError } from "../http/errors.ts";
import type { KeyProvider } from "../keys/provider.ts";

export function sharedDetailsAad(paymentId: string): string {
  return `payer-shared-details|${paymentId}`;
}

export class SharedDetailsService {
  constructor(private readonly keys: KeyProvider) {}

  /** Validates what the payer shares against what the merchant asked for, before anything is sent anywhere. */
  check(payment: { collect: string[] | null }, details: unknown): SharedDetails {
    const parsed = sharedDetailsSchema.safeParse(details);
    if (!parsed.success)
      throw new ApiError(
        "parameter_invalid",
        "sharedDetails is not name, email, phone and one shipping address in plain text.",
        "sharedDetails",
      );
    const asked = new Set(payment.collect ?? []);
    const extra = Object.keys(parsed.data).filter((field) => !asked.has(field));
    if (extra.length > 0)
      throw new ApiError(
        "parameter_unknown",
        `The merchant did not ask for ${extra.join(", ")}; share only what it asked for.`,
        "sharedDetails",
      );
    return parsed.data;
  }

  /** Seals the details for one payment; payments/ keeps them with it (`PaymentService.attachSharedDetails`). */
  async seal(paymentId: string, details: SharedDetails): Promise<string> {
    const plain = new TextEncoder().encode(JSON.stringify(details));
    const sealed = await this.keys.seal("payer-shared-details", plain, sharedDetailsAad(paymentId));
    plain.fill(0);
    return sealed;
  }

  /** For the merchant's own retrieve of the payment. */
  async open(payment: { id: string; sealedSharedDetails: string | null }): Promise<SharedDetails | null> {
    if (!payment.sealedSharedDetails) return null;
    const opened = await this.keys.open(
      "payer-shared-details",
      payment.sealedSharedDetails,
      sharedDetailsAad(payment.id),
    );
    try {
      return sharedDetailsSchema.parse(JSON.parse(new TextDecoder().decode(opened)));
    } finally {
      opened.fill(0);
    }
  }
}
