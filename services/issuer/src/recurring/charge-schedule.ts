/**
 * A recurring charge held to the schedule the payer signed (issue 7, hole 4): the period's count and total are
 * claimed inside the authorization's transaction, after every other check said yes and before the hold, so a
 * charge that is declined for another reason (funds, card status) spends no slot, and no two concurrent charges
 * share the last one (store.ts `claimPeriodCharge`). Periods follow the issuer's clock (`IssuerCore.now`).
 *
 * A claimed slot stays spent when the charge is later voided or refunded: the schedule counts charges the
 * merchant made, so charge-void-charge cannot stretch it (the payer's money comes back either way).
 */
import { periodStart, type MandatePeriod, type MandateTerms } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import { claimPeriodCharge, releasePeriodCharge, tokenByValue, type RecurringTokenRow } from "./store.ts";

export interface ChargeSchedule {
  tokenId: string;
  period: MandatePeriod;
}

/** A slot claimed in one period, to give back if the charge is not approved after all. */
export interface ClaimedCharge {
  tokenId: string;
  periodStart: Date;
  amount: number;
}

/** The token a merchant charges with, found by its value (only its hash is stored), revoked or not; null if unknown. */
export function tokenToCharge(db: Executor, token: string): Promise<RecurringTokenRow | null> {
  return tokenByValue(db, token);
}

/**
 * The signed terms stored with the token, or null for a token issued before schedules were signed. Not parsed
 * again: this host wrote them from the mandate it verified and parsed (service.ts), and nothing else writes here.
 */
export function signedConsentOf(row: RecurringTokenRow): MandateTerms | null {
  return row.consent ?? null;
}

/** Claims this charge in the period that holds `now`; null when the period's count or total has no room for it. */
export async function claimScheduledCharge(
  tx: Executor,
  schedule: ChargeSchedule,
  amount: number,
  now: Date,
): Promise<ClaimedCharge | null> {
  const claim = { tokenId: schedule.tokenId, periodStart: periodStart(schedule.period.interval, now), amount };
  const claimed = await claimPeriodCharge(tx, {
    ...claim,
    maxCharges: schedule.period.maxCharges,
    maxTotal: schedule.period.maxTotal,
  });
  return claimed ? claim : null;
}

export function releaseScheduledCharge(tx: Executor, claim: ClaimedCharge): Promise<void> {
  return releasePeriodCharge(tx, claim);
}
