/**
 * Prefixed, time-ordered identifiers (`pay_01J…`). The first 10 characters after the prefix are the creation
 * time in milliseconds (Crockford base32), the rest 16 random characters (80 bits), so ids sort by creation
 * time, which cursor pagination relies on, and cannot be guessed.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export const ID_PREFIXES = {
  payment: "pay",
  refund: "re",
  merchant: "mch",
  payer: "usr",
  device: "dev",
  approvalChallenge: "chl",
  approval: "apv",
  pinReset: "prs",
  apiKey: "key",
  event: "evt",
  webhookEndpoint: "we",
  delivery: "msg",
  ledgerTransaction: "ltx",
  audit: "aud",
  request: "req",
  card: "card",
  cardEnrollment: "cen",
  issuerOperation: "iop",
  recurringMandate: "rmd",
  announcement: "ann",
  /** A merchant's dashboard user (owner, developer or support). */
  merchantUser: "mus",
  /** A member of the pay company's staff (the operator console: admin or support). */
  staff: "stf",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

export function newId(kind: IdKind, now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const random = crypto.getRandomValues(new Uint8Array(16));
  let rest = "";
  for (const byte of random) rest += ALPHABET[byte % 32];
  return `${ID_PREFIXES[kind]}_${time}${rest}`;
}

const ID_PATTERN = /^[a-z]{2,4}_[0-9A-HJKMNP-TV-Z]{26}$/;

export function isId(kind: IdKind, value: string): boolean {
  return value.startsWith(`${ID_PREFIXES[kind]}_`) && ID_PATTERN.test(value);
}
