/** The issuer's conversion rules, without a database: exponents, half-up rounding, the fee, the table's coverage. */
import { describe, expect, it } from "vitest";
import { CURRENCIES } from "@mpay/protocol";
import { TEST_CARDS } from "../cards/test-cards.ts";
import { billedAmount, FxDesk, isRate } from "./conversion.ts";
import { DEFAULT_FX_FEE_BPS, REFERENCE_RATES } from "./rates.ts";

const desk = new FxDesk(REFERENCE_RATES, 100);
const krw = (currency: string) => desk.termsFor(currency, "KRW")!;

describe("foreign-currency conversion", () => {
  it("has a reference rate from every currency MPay accepts to the currency of every test card", () => {
    expect(DEFAULT_FX_FEE_BPS).toBe(100);
    const billing = new Set(TEST_CARDS.map((card) => card.currency));
    for (const card of billing)
      for (const currency of Object.keys(CURRENCIES))
        expect(desk.termsFor(currency, card), `${currency}→${card}`).not.toBeNull();
  });

  it("bills 12.34 USD on a KRW card at 1380.00 with 1%: 17,029.2 → 17,029 KRW, fee 170, billed 17,199", () => {
    expect(krw("USD")).toEqual({ billingCurrency: "KRW", rate: "1380.00", feeBps: 100 });
    expect(billedAmount(1234, "USD", krw("USD"))).toEqual({ converted: 17_029, fee: 170, billed: 17_199 });
    // 0.01 USD is 13.8 KRW → 14, and 1% of 14 is 0.14 → 0.
    expect(billedAmount(1, "USD", krw("USD"))).toEqual({ converted: 14, fee: 0, billed: 14 });
  });

  it("converts JPY (no minor unit) half up to whole won", () => {
    // 9.25 KRW per yen: 1 ¥ → 9.25 → 9; 2 ¥ → 18.5 → 19 (half up); 1,001 ¥ → 9,259.25 → 9,259, fee 92.59 → 93.
    expect(billedAmount(1, "JPY", krw("JPY")).converted).toBe(9);
    expect(billedAmount(2, "JPY", krw("JPY")).converted).toBe(19);
    expect(billedAmount(1001, "JPY", krw("JPY"))).toEqual({ converted: 9_259, fee: 93, billed: 9_352 });
  });

  it("respects both exponents: EUR (2) to KRW (0), VND (0) at a rate below one, KRW (0) to USD (2)", () => {
    expect(billedAmount(10_050, "EUR", krw("EUR")).converted).toBe(150_298); // 100.50 € × 1495.50 = 150,297.75
    expect(billedAmount(100_000, "VND", krw("VND")).converted).toBe(5_450); // 100,000 ₫ × 0.0545
    const usdCard = new FxDesk({ USD: { KRW: "0.000725" } }, 0).termsFor("KRW", "USD")!;
    expect(billedAmount(10_000, "KRW", usdCard)).toEqual({ converted: 725, fee: 0, billed: 725 }); // 7.25 $
    expect(billedAmount(1, "KRW", usdCard).billed).toBe(0); // 0.0725 ¢
  });

  it("does not convert a purchase in the card's own currency, nor charge a fee on it", () => {
    expect(krw("KRW")).toEqual({ billingCurrency: "KRW", rate: "1", feeBps: 0 });
    expect(billedAmount(35_000, "KRW", krw("KRW"))).toEqual({ converted: 35_000, fee: 0, billed: 35_000 });
  });

  it("knows no rate for a currency outside the table or outside MPay's list", () => {
    const partial = new FxDesk({ KRW: { USD: "1380" } }, 100);
    expect(partial.termsFor("EUR", "KRW")).toBeNull();
    expect(partial.termsFor("USD", "JPY")).toBeNull();
    expect(desk.termsFor("CHF", "KRW")).toBeNull();
    expect(new FxDesk({ KRW: { CHF: "1600" } }, 100).termsFor("CHF", "KRW")).toBeNull();
  });

  it("bills a growing amount never less, so partial captures and refunds add up to the whole", () => {
    const terms = krw("USD");
    let previous = 0;
    for (let cents = 1; cents <= 2_000; cents++) {
      const { billed } = billedAmount(cents, "USD", terms);
      expect(billed).toBeGreaterThanOrEqual(previous);
      previous = billed;
    }
  });

  it("refuses a rate that is not a positive decimal", () => {
    for (const rate of ["0", "0.000", "-1", "1e3", "1,380", "", " 1"]) expect(isRate(rate), rate).toBe(false);
    expect(() => new FxDesk({ KRW: { USD: "1e3" } }, 100)).toThrow(/USD→KRW/);
  });
});
