/**
 * Converting a purchase to the card's billing currency, as a card issuer does: at its reference rate (rates.ts),
 * plus a foreign-transaction fee, each rounded to the billing currency's minor unit.
 *
 * - Amounts are integers in minor units, each currency with its ISO 4217 exponent (packages/protocol currency.ts:
 *   KRW, JPY and VND have none, USD two). So 12.34 USD is `1234`, and at 1380.00 KRW per USD it is 17,029.2 KRW.
 * - Rounding is half up (amounts are positive, so away from zero), once for the converted amount and once for the
 *   fee: 17,029.2 → 17,029 KRW, then 1% of that, 170.29 → 170 KRW, billed 17,199 KRW. 2 JPY at 9.25 is 18.5 →
 *   19 KRW.
 * - Arithmetic is in BigInt over the rate's decimal digits: no binary floating point touches money.
 * - A purchase in the card's own currency is not converted: rate 1, no fee.
 *
 * `billed(x)` never decreases as `x` grows, and a captured or refunded amount is always billed from the total so
 * far (never as a sum of rounded parts): so a capture never bills more than was held, and refunds that add up to
 * the captured amount release exactly what the capture billed (operations/service.ts).
 */
import { CURRENCIES, isCurrency } from "@mpay/protocol";
import type { ReferenceRates } from "./rates.ts";

const RATE = /^(\d{1,12})(?:\.(\d{1,12}))?$/;

/** What an authorization converts at, kept with it: every capture, void and refund of it uses the same. */
export interface FxTerms {
  /** The card's currency. */
  billingCurrency: string;
  /** Units of the billing currency per unit of the transaction currency (decimal string); "1" for no conversion. */
  rate: string;
  /** The foreign-transaction fee in basis points of the converted amount; 0 for no conversion. */
  feeBps: number;
}

export interface Billed {
  /** The amount at the rate, in the billing currency's minor units. */
  converted: number;
  fee: number;
  /** converted + fee: what the card is charged (held, then captured). */
  billed: number;
}

export function isRate(value: string): boolean {
  const match = RATE.exec(value);
  return match !== null && BigInt((match[1] ?? "") + (match[2] ?? "")) > 0n;
}

function divideHalfUp(numerator: bigint, denominator: bigint): bigint {
  return (2n * numerator + denominator) / (2n * denominator);
}

function exponentOf(currency: string): number {
  if (!isCurrency(currency)) throw new Error(`no minor-unit exponent for ${currency}`);
  return CURRENCIES[currency].exponent;
}

/** Past any credit limit; keeps the result a safe integer whatever a custom table multiplies by. */
function safe(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** `amount` minor units of `currency` billed under `terms`. */
export function billedAmount(amount: number, currency: string, terms: FxTerms): Billed {
  if (currency === terms.billingCurrency && terms.rate === "1" && terms.feeBps === 0)
    return { converted: amount, fee: 0, billed: amount };
  const match = RATE.exec(terms.rate);
  if (!match) throw new Error(`not a rate: ${terms.rate}`);
  const decimals = match[2] ?? "";
  const units = BigInt(match[1] + decimals);
  const numerator = BigInt(amount) * units * 10n ** BigInt(exponentOf(terms.billingCurrency));
  const denominator = 10n ** BigInt(decimals.length + exponentOf(currency));
  const converted = divideHalfUp(numerator, denominator);
  const fee = divideHalfUp(converted * BigInt(terms.feeBps), 10_000n);
  return { converted: safe(converted), fee: safe(fee), billed: safe(converted + fee) };
}

/**
 * The issuer's conversion desk: which currencies it converts to a card's, at what rate and fee. A purchase in the
 * card's currency needs no rate; any other needs one in the table, and both currencies must be ones whose minor
 * unit MPay knows (packages/protocol currency.ts), else null (`currency_not_supported`).
 */
export class FxDesk {
  constructor(
    private readonly rates: ReferenceRates,
    private readonly feeBps: number,
  ) {
    for (const [billing, row] of Object.entries(rates))
      for (const [currency, rate] of Object.entries(row))
        if (!isRate(rate)) throw new Error(`reference rate ${currency}→${billing} is not a positive decimal: ${rate}`);
  }

  /** The terms a purchase in `currency` on a card in `billingCurrency` is converted at, or null. */
  termsFor(currency: string, billingCurrency: string): FxTerms | null {
    if (!isCurrency(currency) || !isCurrency(billingCurrency)) return null;
    if (currency === billingCurrency) return { billingCurrency, rate: "1", feeBps: 0 };
    const rate = this.rates[billingCurrency]?.[currency];
    if (rate === undefined) return null;
    return { billingCurrency, rate, feeBps: this.feeBps };
  }
}
