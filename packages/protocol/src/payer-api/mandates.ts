/** Card-on-file mandates as merchants and payers see them; the payer withdraws one with an empty body. */
import { z } from "zod";
import { mandatePeriodSchema } from "../mandate-period.ts";
import { listOf } from "./common.ts";

/** A card-on-file mandate as merchants and payers see it: never the issuer's token. */
export const mandateViewSchema = z.object({
  id: z.string(),
  object: z.literal("mandate"),
  livemode: z.boolean(),
  merchantId: z.string(),
  status: z.enum(["active", "revoked"]),
  maxAmount: z.number().int(),
  /**
   * The most charges and the most money per period the payer signed; the issuer declines a charge beyond them
   * (`mandate_limit_exceeded`). Null only for a mandate given before schedules were signed: its issuer declines it.
   */
  period: mandatePeriodSchema.nullable(),
  currency: z.string(),
  /** The end date: charges after it are declined (`token_expired`). */
  expiresAt: z.string(),
  /** The payment the payer approved it with. */
  paymentId: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
export type MandateView = z.infer<typeof mandateViewSchema>;
export const mandateListSchema = listOf(mandateViewSchema);
