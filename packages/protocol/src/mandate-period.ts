/**
 * The per-period part of a card-on-file mandate's schedule (issue 7, hole 4; DESIGN.md "Cards on file"). Beside
 * the most per charge (`maxAmount`) and the end date (`expiresAt`), the payer consents to the most charges and
 * the most money in one period. It is part of the terms the device signs, so the issuer can enforce it from the
 * payer's own signature: a pay server whose KEK opens the sealed token still charges no more than the payer agreed.
 *
 * Periods are calendar periods in UTC: a day from 00:00, a week from Monday 00:00 (ISO 8601), a month from the
 * 1st 00:00. Calendar periods (not "the last 30 days") let the issuer keep one counter row per period and let the
 * payer read the limit the way a statement shows it.
 */
import { z } from "zod";

export const MANDATE_INTERVALS = ["day", "week", "month"] as const;
export type MandateInterval = (typeof MANDATE_INTERVALS)[number];

/** A card on file is for recurring charges, not a stream of payments: no schedule allows more in one period. */
export const MAX_MANDATE_CHARGES_PER_PERIOD = 100;

export const mandatePeriodSchema = z.strictObject({
  interval: z.enum(MANDATE_INTERVALS),
  /** The most charges the issuer approves in one period. */
  maxCharges: z.number().int().min(1).max(MAX_MANDATE_CHARGES_PER_PERIOD),
  /** The most the approved charges of one period add up to, in minor units of the mandate's currency. */
  maxTotal: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});
export type MandatePeriod = z.infer<typeof mandatePeriodSchema>;

/**
 * Why a period does not fit the cap per charge, or null. The total must allow one charge at the cap (else the cap
 * means nothing) and must not exceed what the allowed charges at the cap could take (else the total means nothing).
 */
export function mandatePeriodProblem(maxAmount: number, period: MandatePeriod): string | null {
  if (period.maxTotal < maxAmount)
    return "maxTotal must be at least maxAmount: one charge at the cap must fit in a period";
  if (period.maxTotal > maxAmount * period.maxCharges) return "maxTotal must be at most maxAmount × maxCharges";
  return null;
}

/** The start (UTC) of the period of `interval` that holds `at`. */
export function periodStart(interval: MandateInterval, at: Date): Date {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  if (interval === "month") return new Date(Date.UTC(year, month, 1));
  const day = at.getUTCDate();
  if (interval === "day") return new Date(Date.UTC(year, month, day));
  // ISO weeks start on Monday; getUTCDay() counts from Sunday (0).
  const sinceMonday = (at.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(year, month, day - sinceMonday));
}
