/**
 * Opaque bearer tokens of the sign-ins (the dashboard's `dsc_` challenges and `mds_` sessions, the console's `stc_`
 * challenges and `sts_` sessions): random, stored only as SHA-256.
 */
import { createHash, randomBytes } from "node:crypto";

export type TokenPrefix = "dsc" | "mds" | "stc" | "sts";

export function newToken(prefix: TokenPrefix): string {
  return `${prefix}_${randomBytes(32).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

const TOKEN_BODY = /^[A-Za-z0-9_-]{43}$/;

export function isToken(prefix: TokenPrefix, value: string): boolean {
  return value.startsWith(`${prefix}_`) && TOKEN_BODY.test(value.slice(prefix.length + 1));
}
