/** Facts read off a card number, an expiry or a phone number, and their masked forms (the only forms shown). */
import type { CARD_BRANDS } from "@mpay/protocol";

export type CardBrand = (typeof CARD_BRANDS)[number];

/** The brand from the leading digits (the networks' own prefixes; 9 is the local network's here). */
export function brandOf(pan: string): CardBrand {
  if (pan.startsWith("4")) return "visa";
  if (/^(5[1-5]|2[2-7])/.test(pan)) return "mastercard";
  if (/^3[47]/.test(pan)) return "amex";
  return "local";
}

/** `MM/YY` as printed → `YYYY-MM`. */
export function expiryMonthOf(expiry: string): string {
  return `20${expiry.slice(3, 5)}-${expiry.slice(0, 2)}`;
}

/** A card is valid through the last day of its expiry month (UTC). */
export function isExpired(expiryMonth: string, now: Date): boolean {
  const current = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
  return expiryMonth < current;
}

/** `4111 •••• •••• 0016`: the first four and the last four, as receipts print them. */
export function maskPan(pan: string): string {
  return `${pan.slice(0, 4)} •••• •••• ${pan.slice(-4)}`;
}

/** `+82 10-****-0001` for a Korean mobile number; otherwise the country code and the last four. */
export function maskPhone(phone: string): string {
  const korean = /^\+8210\d{4}(\d{4})$/.exec(phone);
  if (korean) return `+82 10-****-${korean[1]}`;
  return `${phone.slice(0, 3)} ****${phone.slice(-4)}`;
}

/** Normalizes a phone number typed or sent in a query (spaces, dashes, a `+` lost to URL decoding) to E.164. */
export function normalizePhone(raw: string): string | null {
  const digits = raw.trim().replace(/[\s\-().]/g, "");
  const e164 = digits.startsWith("+") ? digits : `+${digits}`;
  return /^\+[1-9]\d{6,14}$/.test(e164) ? e164 : null;
}
