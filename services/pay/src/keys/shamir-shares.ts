/**
 * The shamir vault's master key, its custodian shares and its check value.
 *
 * A share is `mpvs1_<base64url(share | checksum)>`: the 33 bytes that shamir-secret-sharing makes for a 32-byte
 * secret (the last byte is the share's x coordinate) and 4 bytes of SHA-256 over them, so a mistyped share is
 * refused at once, on its own, without discarding the others. The checksum says nothing about the master key.
 *
 * Combining shares that do not belong together silently yields a wrong key (the library cannot tell), so the
 * vault stores a check value: an HMAC of a fixed label under a key derived from the master key. A combination
 * whose check value differs is refused. The check value reveals nothing usable: inverting it means finding a
 * 256-bit key.
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { combine, split } from "shamir-secret-sharing";
import { decodeCanonical } from "./encoding.ts";
import { KeyProviderError } from "./provider.ts";

export const MASTER_KEY_BYTES = 32;
const SHARE_BYTES = MASTER_KEY_BYTES + 1;
const CHECKSUM_BYTES = 4;
const SHARE_PREFIX = "mpvs1_";
/** The library's range; two custodians at least, or it is not split knowledge. */
export const MAX_SHARES = 255;

export function newMasterKey(): Buffer {
  return randomBytes(MASTER_KEY_BYTES);
}

/** Splits the master key M-of-N into share texts; the raw share bytes are wiped before returning. */
export async function splitMasterKey(master: Buffer, shares: number, threshold: number): Promise<string[]> {
  assertParameters(shares, threshold);
  // A view, not a copy: a copy of the master key would be one more buffer to wipe.
  const parts = await split(new Uint8Array(master.buffer, master.byteOffset, master.length), shares, threshold);
  try {
    return parts.map(encodeShare);
  } finally {
    for (const part of parts) part.fill(0);
  }
}

export function assertParameters(shares: number, threshold: number): void {
  if (!Number.isInteger(shares) || !Number.isInteger(threshold) || threshold < 2 || threshold > shares || shares > MAX_SHARES) {
    throw new KeyProviderError("provider_misconfigured", `--threshold M and --shares N need 2 ≤ M ≤ N ≤ ${MAX_SHARES}`);
  }
}

/**
 * One share's bytes (33), or KeyProviderError("vault_share_invalid"). The message never quotes the input: a
 * share that is nearly right is nearly a share.
 */
export function decodeShare(text: string): Buffer {
  const trimmed = text.trim();
  const bytes = trimmed.startsWith(SHARE_PREFIX) ? decodeCanonical(trimmed.slice(SHARE_PREFIX.length), "base64url") : null;
  if (!bytes || bytes.length !== SHARE_BYTES + CHECKSUM_BYTES) {
    bytes?.fill(0);
    throw shareInvalid();
  }
  const share = Buffer.from(bytes.subarray(0, SHARE_BYTES));
  const ok = timingSafeEqual(checksum(share), bytes.subarray(SHARE_BYTES));
  bytes.fill(0);
  if (!ok) {
    share.fill(0);
    throw shareInvalid();
  }
  return share;
}

/** The share's x coordinate: two shares with the same one cannot both count. */
export function shareIndex(share: Uint8Array): number {
  return share[share.length - 1] ?? 0;
}

/** Combines exactly `threshold` shares; the caller checks the result against the check value. */
export async function combineShares(shares: Uint8Array[]): Promise<Buffer> {
  // Plain Uint8Array views over the same bytes (no copies to wipe): the library checks `instanceof Uint8Array`,
  // which a Buffer fails when the two come from different realms (as under a test runner's module loader).
  const secret = await combine(shares.map((s) => new Uint8Array(s.buffer, s.byteOffset, s.byteLength)));
  const master = Buffer.from(secret);
  secret.fill(0);
  return master;
}

export function checkValue(master: Buffer): string {
  const key = derive(master, "mpay/vault|check");
  try {
    return createHmac("sha256", key).update("mpay-vault-check/v1").digest("base64url");
  } finally {
    key.fill(0);
  }
}

export function checkValueMatches(master: Buffer, stored: string): boolean {
  const expected = Buffer.from(checkValue(master));
  const given = Buffer.from(stored);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** A purpose-bound key derived from the master key (HKDF-SHA256); the caller wipes it. */
export function derive(master: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), info, 32));
}

function encodeShare(share: Uint8Array): string {
  const bytes = Buffer.concat([share, checksum(share)]);
  try {
    return SHARE_PREFIX + bytes.toString("base64url");
  } finally {
    bytes.fill(0);
  }
}

function checksum(share: Uint8Array): Buffer {
  return createHash("sha256").update("mpay-vault-share/v1|").update(share).digest().subarray(0, CHECKSUM_BYTES);
}

function shareInvalid(): KeyProviderError {
  return new KeyProviderError("vault_share_invalid", "that is not an MPay vault share (mpvs1_…), or it was mistyped; the shares received so far are kept");
}
