/**
 * Password hashing with node:crypto scrypt: a random 16-byte salt per account, OWASP's scrypt parameters
 * (N=2^15, r=8, p=3: 32 MiB, ≈0.2 s on one core), parameters stored with the hash so they can be raised later
 * without invalidating old hashes, and a constant-time comparison.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { Secret } from "@mpay/protocol";

const PARAMS = { N: 2 ** 15, r: 8, p: 3 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** scrypt needs 128·N·r bytes; node's default ceiling (32 MiB) is exactly that, which it refuses. */
const MAX_MEMORY = 64 * 1024 * 1024;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: MAX_MEMORY };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, KEY_LENGTH, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

export async function hashPassword(password: Secret<string>): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password.peek(), salt, PARAMS);
  return ["scrypt", PARAMS.N, PARAMS.r, PARAMS.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** True when `password` matches `stored`; false for a wrong password and for a malformed hash. */
export async function verifyPassword(password: Secret<string>, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 2 ** 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4] ?? "", "base64url");
  const expected = Buffer.from(parts[5] ?? "", "base64url");
  if (salt.length === 0 || expected.length !== KEY_LENGTH) return false;
  const actual = await derive(password.peek(), salt, { N, r, p });
  return timingSafeEqual(actual, expected);
}

/**
 * A valid hash of a random password, verified against when a phone number has no account, so that a sign-in
 * attempt takes as long for an unknown number as for a known one (no timing oracle for who has an account).
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(new Secret(randomBytes(24).toString("base64url")));
  return decoy;
}
