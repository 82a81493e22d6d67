import { describe, expect, it } from "vitest";
import { mandateTermsSchema, type MandateTerms } from "./issuer.ts";
import { mandatePeriodProblem, periodStart } from "./mandate-period.ts";

const terms: MandateTerms = {
  aud: "sampo",
  cardRef: "icr_1",
  merchantId: "mch_1",
  merchantName: "Music Monthly",
  maxAmount: 15_000,
  period: { interval: "month", maxCharges: 2, maxTotal: 20_000 },
  currency: "KRW",
  expiresAt: 1_900_000_000,
  nonce: "AAAAAAAAAAAAAAAAAAAAAA",
  iat: 1_800_000_000,
};

describe("mandate periods", () => {
  it("starts each period at its UTC calendar boundary", () => {
    // Wednesday 2026-12-02 15:30 UTC.
    const at = new Date("2026-12-02T15:30:00Z");
    expect(periodStart("day", at).toISOString()).toBe("2026-12-02T00:00:00.000Z");
    expect(periodStart("week", at).toISOString()).toBe("2026-11-30T00:00:00.000Z");
    expect(periodStart("month", at).toISOString()).toBe("2026-12-01T00:00:00.000Z");
    // A Sunday belongs to the week that began the Monday before; a Monday starts its own.
    expect(periodStart("week", new Date("2026-12-06T23:59:59Z")).toISOString()).toBe("2026-11-30T00:00:00.000Z");
    expect(periodStart("week", new Date("2026-12-07T00:00:00Z")).toISOString()).toBe("2026-12-07T00:00:00.000Z");
    // Across a year's end.
    expect(periodStart("week", new Date("2027-01-01T08:00:00Z")).toISOString()).toBe("2026-12-28T00:00:00.000Z");
  });

  it("accepts a total between one charge at the cap and every charge at the cap", () => {
    expect(mandatePeriodProblem(15_000, { interval: "month", maxCharges: 2, maxTotal: 15_000 })).toBeNull();
    expect(mandatePeriodProblem(15_000, { interval: "month", maxCharges: 2, maxTotal: 30_000 })).toBeNull();
    expect(mandatePeriodProblem(15_000, { interval: "month", maxCharges: 2, maxTotal: 14_999 })).toMatch(
      /at least maxAmount/,
    );
    expect(mandatePeriodProblem(15_000, { interval: "month", maxCharges: 2, maxTotal: 30_001 })).toMatch(
      /at most maxAmount × maxCharges/,
    );
  });

  it("is part of the signed terms: terms without a sound period do not parse", () => {
    expect(mandateTermsSchema.safeParse(terms).success).toBe(true);
    const { period: _period, ...withoutPeriod } = terms;
    for (const bad of [
      withoutPeriod,
      { ...terms, period: { ...terms.period, maxTotal: 40_000 } },
      { ...terms, period: { ...terms.period, maxCharges: 0 } },
      { ...terms, period: { ...terms.period, maxCharges: 2.5 } },
      { ...terms, period: { ...terms.period, interval: "year" } },
      { ...terms, period: { ...terms.period, extra: 1 } },
    ]) {
      expect(mandateTermsSchema.safeParse(bad).success).toBe(false);
    }
  });
});
