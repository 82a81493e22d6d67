import { z } from "zod";
import type { RefundRow } from "./store.ts";

export const refundSchema = z.object({
  id: z.string(),
  object: z.literal("refund"),
  paymentId: z.string(),
  livemode: z.boolean(),
  amount: z.number().int(),
  currency: z.string(),
  reason: z.string().nullable(),
  status: z.literal("succeeded"),
  createdAt: z.string(),
});

export type RefundView = z.infer<typeof refundSchema>;

export function refundView(row: RefundRow): RefundView {
  return {
    id: row.id,
    object: "refund",
    paymentId: row.paymentId,
    livemode: row.mode === "live",
    amount: row.amount,
    currency: row.currency,
    reason: row.reason,
    status: "succeeded",
    createdAt: row.createdAt.toISOString(),
  };
}
