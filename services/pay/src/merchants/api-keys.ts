/**
 * API keys: `sk_test_…`/`sk_live_…` secret keys for the merchant's server, `pk_test_…`/`pk_live_…` publishable
 * keys for the browser. Secret keys carry 190 bits of randomness, so a plain SHA-256 is a sufficient one-way
 * store (no slow hash is needed against guessing, unlike a password); only the hash and the last four
 * characters are kept.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Mode } from "@mpay/protocol";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function randomBase62(length: number): string {
  // Rejection sampling keeps every character uniform (256 is not a multiple of 62).
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export type KeyKind = "secret" | "publishable";

export function generateApiKey(kind: KeyKind, mode: Mode): string {
  return `${kind === "secret" ? "sk" : "pk"}_${mode}_${randomBase62(kind === "secret" ? 32 : 24)}`;
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

const KEY_PATTERN = /^(sk|pk)_(test|live)_[0-9A-Za-z]{24,32}$/;

export function parseApiKey(key: string): { kind: KeyKind; mode: Mode } | null {
  const match = KEY_PATTERN.exec(key);
  if (!match) return null;
  return { kind: match[1] === "sk" ? "secret" : "publishable", mode: match[2] as Mode };
}
