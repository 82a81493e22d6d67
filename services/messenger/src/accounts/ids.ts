/**
 * Account ids, which are also the OpenID Connect subject (`sub`): `acct_` and 26 characters of 130 random bits
 * (Crockford base32). Opaque on purpose: they carry neither the phone number nor the creation time, and never change.
 */
import { opaqueId } from "../ids.ts";

export function newAccountId(): string {
  return opaqueId("acct_");
}

export const ACCOUNT_ID_PATTERN = /^acct_[0-9A-HJKMNP-TV-Z]{26}$/;
