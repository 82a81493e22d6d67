/**
 * What the breach drills look for, in every form a leak would most likely take: a key's bytes as base64url, base64
 * (with and without padding) and hex (either case, which is also how PostgreSQL prints `bytea`); a card number as
 * typed, grouped in fours with spaces or dashes, and as the JSON a record would hold; a CVC as a JSON value or a
 * labelled field.
 */

/** The encodings of `bytes` that a log line, a column or a body could hold. */
export function byteEncodings(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes);
  const base64 = buffer.toString("base64");
  const hex = buffer.toString("hex");
  return [...new Set([buffer.toString("base64url"), base64, base64.replace(/=+$/, ""), hex, hex.toUpperCase()])];
}

/** A card number as typed, grouped in fours (spaces or dashes). */
export function panForms(pan: string): string[] {
  const groups = pan.match(/.{1,4}/g) ?? [pan];
  return [pan, groups.join(" "), groups.join("-")];
}

/**
 * A CVC where it would sit next to card data: a JSON string value, or after a label (`cvc=742`, `"cvv": 742`).
 * A bare three-digit number is everywhere by chance (amounts, milliseconds), so it alone is not a finding.
 */
export function cvcPatterns(cvc: string): RegExp[] {
  return [new RegExp(`"${cvc}"`), new RegExp(`(cvc|cvv|cvv2|csc|security.?code)\\W{0,4}${cvc}(?![0-9])`, "i")];
}

export interface Finding {
  where: string;
  what: string;
}

/** Every (place, secret) pair where `place.text` contains the needle or matches the pattern. */
export function findSecrets(
  places: ReadonlyArray<{ where: string; text: string }>,
  secrets: ReadonlyArray<{ what: string; needles: ReadonlyArray<string | RegExp> }>,
): Finding[] {
  const findings: Finding[] = [];
  for (const place of places) {
    for (const secret of secrets) {
      if (
        secret.needles.some((needle) =>
          typeof needle === "string" ? place.text.includes(needle) : needle.test(place.text),
        )
      )
        findings.push({ where: place.where, what: secret.what });
    }
  }
  return findings;
}
