/** Opaque bearer tokens of the dashboard (`dsc_` challenges, `mds_` sessions): random, stored only as SHA-256. */
import { createHash, randomBytes } from "node:crypto";

export type TokenPrefix = "dsc" | "mds";

export function newToken(prefix: TokenPrefix): string {
  return `${prefix}_${randomBytes(32).toString("base64url")}`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

const TOKEN_PATTERN = /^(dsc|mds)_[A-Za-z0-9_-]{43}$/;

export function isToken(prefix: TokenPrefix, value: string): boolean {
  return value.startsWith(`${prefix}_`) && TOKEN_PATTERN.test(value);
}
