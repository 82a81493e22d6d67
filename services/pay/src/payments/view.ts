/** The payment as the merchant API shows it (camelCase, ISO timestamps, amounts in minor units). */
import { z } from "zod";
import {
  CAPTURE_METHODS,
  PAYMENT_STATUSES,
  SHAREABLE_DETAILS,
  mandatePeriodSchema,
  sharedDetailsSchema,
} from "@mpay/protocol";
import type { PaymentRow } from "./store.ts";

export const paymentSchema = z.object({
  id: z.string(),
  object: z.literal("payment"),
  livemode: z.boolean(),
  status: z.enum(PAYMENT_STATUSES),
  amount: z.number().int(),
  currency: z.string(),
  amountCaptured: z.number().int(),
  amountRefunded: z.number().int(),
  amountRefundable: z.number().int(),
  captureMethod: z.enum(CAPTURE_METHODS),
  orderId: z.string(),
  itemName: z.string(),
  returnUrl: z.string(),
  cancelUrl: z.string(),
  checkoutUrl: z.string(),
  declineCode: z.string().nullable(),
  /**
   * The card-on-file mandate asked for with this payment (`mandate` is set once the payer gave it): the schedule
   * the payer is shown and signs. `period` is null only on payments made before schedules existed.
   */
  setupFutureUsage: z
    .object({ maxAmount: z.number().int(), period: mandatePeriodSchema.nullable(), expiresAt: z.string() })
    .nullable(),
  /** The mandate the payer gave with this payment, or the one this off-session payment charged. */
  mandate: z.string().nullable(),
  /** Personal details asked of the payer for this payment. */
  collect: z.array(z.enum(SHAREABLE_DETAILS)),
  /** What the payer chose to share (only in `GET /v1/payments/:id`). */
  sharedDetails: sharedDetailsSchema.nullable().optional(),
  createdAt: z.string(),
  approvalExpiresAt: z.string(),
  authorizationExpiresAt: z.string().nullable(),
  authorizedAt: z.string().nullable(),
  capturedAt: z.string().nullable(),
  canceledAt: z.string().nullable(),
});

export type PaymentView = z.infer<typeof paymentSchema>;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function paymentView(row: PaymentRow, checkoutBaseUrl: string): PaymentView {
  return {
    id: row.id,
    object: "payment",
    livemode: row.mode === "live",
    status: row.status as PaymentView["status"],
    amount: row.amount,
    currency: row.currency,
    amountCaptured: row.amountCaptured,
    amountRefunded: row.amountRefunded,
    amountRefundable: row.status === "captured" ? row.amountCaptured - row.amountRefunded : 0,
    captureMethod: row.captureMethod as PaymentView["captureMethod"],
    orderId: row.orderId,
    itemName: row.itemName,
    returnUrl: row.returnUrl,
    cancelUrl: row.cancelUrl,
    checkoutUrl: `${checkoutBaseUrl}/checkout/${row.id}`,
    declineCode: row.declineCode,
    setupFutureUsage: row.setupFutureUsage
      ? {
          maxAmount: row.setupFutureUsage.maxAmount,
          period: row.setupFutureUsage.period ?? null,
          expiresAt: new Date(row.setupFutureUsage.expiresAt * 1000).toISOString(),
        }
      : null,
    mandate: row.mandateId,
    collect: (row.collect ?? []) as PaymentView["collect"],
    createdAt: row.createdAt.toISOString(),
    approvalExpiresAt: row.approvalExpiresAt.toISOString(),
    authorizationExpiresAt: iso(row.authorizationExpiresAt),
    authorizedAt: iso(row.authorizedAt),
    capturedAt: iso(row.capturedAt),
    canceledAt: iso(row.canceledAt),
  };
}
