/**
 * The issuer's own identifiers, in MPay's form (prefix, 10 characters of creation time, 16 random characters of
 * Crockford base32: 80 random bits), with prefixes of their own so that an issuer's card reference is never taken
 * for the pay server's card id. A `cardRef` is random: nothing of the PAN goes into it.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export const ISSUER_ID_PREFIXES = {
  cardRef: "icr",
  enrollment: "ien",
  binding: "ibd",
  recurringToken: "irt",
} as const;

export function newIssuerId(kind: keyof typeof ISSUER_ID_PREFIXES, now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rest = "";
  for (const byte of crypto.getRandomValues(new Uint8Array(16))) rest += ALPHABET[byte % 32];
  return `${ISSUER_ID_PREFIXES[kind]}_${time}${rest}`;
}

/** Six characters of `A-Z0-9` from a CSPRNG: an approval's authorization code. */
export function newAuthorizationCode(): string {
  const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  let code = "";
  // 252 = 7 × 36: rejection sampling keeps every character equally likely.
  while (code.length < 6) {
    for (const byte of crypto.getRandomValues(new Uint8Array(8)))
      if (byte < 252 && code.length < 6) code += chars[byte % 36];
  }
  return code;
}
