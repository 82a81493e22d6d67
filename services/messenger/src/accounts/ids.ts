/**
 * Account ids, which are also the OpenID Connect subject (`sub`): `acct_` and 26 characters of 130 random bits
 * (Crockford base32). Opaque on purpose: they carry neither the phone number nor the creation time, and never change.
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function newAccountId(): string {
  const bytes = randomBytes(26);
  let id = "acct_";
  for (const byte of bytes) id += ALPHABET[byte % 32];
  return id;
}

export const ACCOUNT_ID_PATTERN = /^acct_[0-9A-HJKMNP-TV-Z]{26}$/;
