/**
 * The card-on-file mandate a merchant asks for with a payment (`setupFutureUsage`), checked before anything is
 * stored: the schedule the payer will be shown and will sign for the issuer — the most per charge, the most
 * charges and total per period, and the end date (issue 7, hole 4). Each failure names its parameter.
 */
import { mandatePeriodProblem, type Currency, type MandateInterval, type MandatePeriod } from "@mpay/protocol";
import { ApiError } from "../http/errors.ts";
import { requireAmount } from "./rules.ts";

/** A mandate may end at most this far ahead (the issuer caps tokens at five years too). */
const MAX_MANDATE_SECONDS = 5 * 365 * 86_400;
/** …and at least this far, so the payer's consent is not spent before the merchant can use it. */
const MIN_MANDATE_SECONDS = 60;

export interface MandateRequestInput {
  maxAmount: unknown;
  period: { interval: MandateInterval; maxCharges: number; maxTotal: unknown };
  expiresAt: string;
}

/** What the payment keeps: the schedule as the payer will sign it (`expiresAt` in unix seconds). */
export interface MandateRequest {
  maxAmount: number;
  period: MandatePeriod;
  expiresAt: number;
}

export function requireMandateRequest(input: MandateRequestInput, currency: Currency, nowMs: number): MandateRequest {
  const maxAmount = requireAmount(input.maxAmount, currency, "setupFutureUsage.maxAmount");
  const maxTotal = requireAmount(input.period.maxTotal, currency, "setupFutureUsage.period.maxTotal");
  // interval and maxCharges (1 to MAX_MANDATE_CHARGES_PER_PERIOD) are checked by the route's schema.
  const period: MandatePeriod = { interval: input.period.interval, maxCharges: input.period.maxCharges, maxTotal };
  const problem = mandatePeriodProblem(maxAmount, period);
  if (problem)
    throw new ApiError("parameter_invalid", `setupFutureUsage.period.${problem}.`, "setupFutureUsage.period.maxTotal");
  const expiresAtMs = Date.parse(input.expiresAt);
  const seconds = Math.floor(expiresAtMs / 1000);
  const now = Math.floor(nowMs / 1000);
  if (!Number.isFinite(expiresAtMs) || seconds <= now + MIN_MANDATE_SECONDS || seconds > now + MAX_MANDATE_SECONDS) {
    throw new ApiError(
      "parameter_invalid",
      "setupFutureUsage.expiresAt must be an ISO 8601 time between a minute and five years from now.",
      "setupFutureUsage.expiresAt",
    );
  }
  return { maxAmount, period, expiresAt: seconds };
}
