/**
 * Opaque ids: a prefix that names the kind (`acct_`, `chat_`, `cmsg_`) and 26 characters of 130 random bits
 * (Crockford base32). They carry no phone number, time or order, so an id shown to someone tells them nothing.
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function opaqueId(prefix: string): string {
  let id = prefix;
  // 256 is a multiple of 32: `byte % 32` picks every character equally often.
  for (const byte of randomBytes(26)) id += ALPHABET[byte % 32];
  return id;
}
