/**
 * Phone numbers in E.164 (`+` then 8 to 15 digits, no leading zero in the country code). People type separators,
 * so spaces, hyphens, dots and parentheses are removed first; anything else is refused, never guessed at (no
 * national formats: the messenger would have to know the user's country to read `010-…`).
 */
const E164 = /^\+[1-9][0-9]{7,14}$/;
const SEPARATORS = /[\s\-.()]/g;

/** The E.164 form of `input`, or null when it is not a phone number in international format. */
export function normalizePhoneNumber(input: string): string | null {
  if (input.length > 32) return null;
  const compact = input.replace(SEPARATORS, "");
  return E164.test(compact) ? compact : null;
}
