/**
 * ISO 4217 currencies MPay accepts, with their minor-unit exponent. Amounts are always integers in minor units
 * (KRW and JPY have none, so 35000 KRW is `35000`; 10.50 USD is `1050`).
 *
 * The ceiling keeps every amount, and any sum of them the ledger makes, far inside Number.MAX_SAFE_INTEGER and
 * int8; it is the largest single payment a card network would carry (about 100 million USD in cents,
 * 99 billion KRW).
 */
export const CURRENCIES = {
  KRW: { exponent: 0, maxAmount: 99_999_999_999 },
  JPY: { exponent: 0, maxAmount: 99_999_999_999 },
  USD: { exponent: 2, maxAmount: 9_999_999_999 },
  EUR: { exponent: 2, maxAmount: 9_999_999_999 },
  GBP: { exponent: 2, maxAmount: 9_999_999_999 },
  CNY: { exponent: 2, maxAmount: 9_999_999_999 },
  HKD: { exponent: 2, maxAmount: 9_999_999_999 },
  SGD: { exponent: 2, maxAmount: 9_999_999_999 },
  TWD: { exponent: 2, maxAmount: 9_999_999_999 },
  VND: { exponent: 0, maxAmount: 99_999_999_999 },
} as const satisfies Record<string, { exponent: number; maxAmount: number }>;

export type Currency = keyof typeof CURRENCIES;

export function isCurrency(value: string): value is Currency {
  return Object.hasOwn(CURRENCIES, value);
}

/** A positive integer amount of minor units within the currency's ceiling. */
export type MinorUnit = number & { readonly __minorUnit: true };

export type AmountCheck =
  | { ok: true; amount: MinorUnit }
  | { ok: false; code: "amount_invalid" | "amount_too_large"; message: string };

export function checkAmount(value: unknown, currency: Currency): AmountCheck {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    return {
      ok: false,
      code: "amount_invalid",
      message: "amount must be an integer number of minor units (no decimals, no strings)",
    };
  }
  if (value <= 0) return { ok: false, code: "amount_invalid", message: "amount must be greater than zero" };
  const max = CURRENCIES[currency].maxAmount;
  if (value > max)
    return { ok: false, code: "amount_too_large", message: `amount must be at most ${max} for ${currency}` };
  return { ok: true, amount: value as MinorUnit };
}
