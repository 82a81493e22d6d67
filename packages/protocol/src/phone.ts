/**
 * Phone numbers as the messenger keeps them: E.164 (`+` then 8 to 15 digits, no leading zero in the country code).
 * One rule for the messenger and the pay server: the pay server finds a payer by the number the messenger told it
 * at sign-in, so the number a person types at the checkout must normalize to exactly the same string. Separators people type (spaces,
 * hyphens, dots, parentheses) are removed; anything else is refused, never guessed at (no national formats).
 */
const E164 = /^\+[1-9][0-9]{7,14}$/;
const SEPARATORS = /[\s\-.()]/g;

/** The E.164 form of `input`, or null when it is not a phone number in international format. */
export function normalizePhoneNumber(input: string): string | null {
  if (input.length > 32) return null;
  const compact = input.replace(SEPARATORS, "");
  return E164.test(compact) ? compact : null;
}

/**
 * A number as an answer meant for whoever typed it may show it: the country code and the last four digits, the
 * rest masked (`+82 10-****-5678` for a Korean mobile number, `+1 ******5678` otherwise). Takes an E.164 number.
 */
export function maskPhoneNumber(e164: string): string {
  if (!E164.test(e164)) throw new TypeError("maskPhoneNumber takes an E.164 number");
  const digits = e164.slice(1);
  const last4 = digits.slice(-4);
  // Korean mobile numbers (+82 10-XXXX-XXXX) are the messenger's home case: show them as people write them.
  if (/^8210\d{8}$/.test(digits)) return `+82 10-****-${last4}`;
  const countryCode = digits.startsWith("1") || digits.startsWith("7") ? digits.slice(0, 1) : digits.slice(0, 2);
  const hidden = digits.length - countryCode.length - 4;
  return `+${countryCode} ${"*".repeat(Math.max(hidden, 0))}${last4}`;
}
