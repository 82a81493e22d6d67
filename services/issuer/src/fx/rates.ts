/**
 * The issuer's reference rates: what it converts a purchase in a foreign currency to the card's billing currency
 * at (issue 10, deliverable 5: test cards work in every currency MPay accepts). Fixed demo rates, not market data:
 * a simulator that moved its rates would make every test and every demo receipt differ from run to run.
 *
 * Read as: one unit of the transaction currency (its major unit: 1 USD, 1 JPY) is this many units of the billing
 * currency. A rate is a decimal string, so the table says exactly what it holds and conversions are done in
 * integers (conversion.ts), never in binary floating point.
 *
 * One row per currency the issuer bills cards in (every test card is a KRW card: cards/test-cards.ts), with a rate
 * for every currency of packages/protocol/src/currency.ts; fx.test.ts checks that none is missing. A currency with
 * no rate is declined `currency_not_supported`.
 */
import type { Currency } from "@mpay/protocol";

/** Billing currency → transaction currency → units of the billing currency per unit of the transaction currency. */
export type ReferenceRates = Readonly<Record<string, Readonly<Record<string, string>>>>;

export const REFERENCE_RATES = {
  KRW: {
    KRW: "1",
    JPY: "9.25",
    USD: "1380.00",
    EUR: "1495.50",
    GBP: "1752.40",
    CNY: "190.15",
    HKD: "177.20",
    SGD: "1028.60",
    TWD: "42.85",
    VND: "0.0545",
  },
} as const satisfies Record<string, Record<Currency, string>>;

/** 1%: what Korean issuers charge on a purchase abroad, in basis points; `ISSUER_FX_FEE_BPS` changes it. */
export const DEFAULT_FX_FEE_BPS = 100;
