/**
 * The shamir vault's master key, its custodian shares and its check value.
 *
 * A share is `mpvs2_<base64url(share set | share | checksum)>`: the 8-byte id of the share set it belongs to (a
 * new set is made by every `vault init` and `vault rekey`), the 33 bytes that shamir-secret-sharing makes for a
 * 32-byte secret (the last byte is the share's x coordinate) and 4 bytes of SHA-256 over both, so a mistyped share
 * is refused at once, on its own, without discarding the others, and a share of a replaced set is told apart
 * before it is combined with anything. Neither the set id nor the checksum says anything about the master key.
 * Vaults made before share sets were named hold `mpvs1_<base64url(share | checksum)>` shares, still accepted.
 *
 * Combining shares that do not belong together silently yields a wrong key (the library cannot tell), so the
 * vault stores a check value: an HMAC of a fixed label under a key derived from the master key. A combination
 * whose check value differs is refused. The check value reveals nothing usable: inverting it means finding a
 * 256-bit key.
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { combine, split } from "shamir-secret-sharing";
import { decodeCanonical } from "../encoding.ts";
import { KeyProviderError } from "../provider.ts";

export const MASTER_KEY_BYTES = 32;
const SHARE_BYTES = MASTER_KEY_BYTES + 1;
const CHECKSUM_BYTES = 4;
const SHARE_SET_BYTES = 8;
const SHARE_PREFIX = "mpvs2_";
/** A share of a vault made before share sets were named: no set id in it. */
const LEGACY_SHARE_PREFIX = "mpvs1_";
/** The library's range; two custodians at least, or it is not split knowledge. */
export const MAX_SHARES = 255;

export function newMasterKey(): Buffer {
  return randomBytes(MASTER_KEY_BYTES);
}

/** A custodian share, decoded: its set (null for an `mpvs1_` share) and its 33 bytes, which the caller wipes. */
export interface CustodianShare {
  shareSet: string | null;
  bytes: Buffer;
}

/** The id of a new share set (public: it is stored in vault_custody and written into each share). */
export function newShareSet(): string {
  return randomBytes(SHARE_SET_BYTES).toString("base64url");
}

/** Splits the master key M-of-N into share texts of `shareSet`; the raw share bytes are wiped before returning. */
export async function splitMasterKey(
  master: Buffer,
  shares: number,
  threshold: number,
  shareSet: string,
): Promise<string[]> {
  assertParameters(shares, threshold);
  const set = shareSetBytes(shareSet);
  // A view, not a copy: a copy of the master key would be one more buffer to wipe.
  const parts = await split(new Uint8Array(master.buffer, master.byteOffset, master.length), shares, threshold);
  try {
    return parts.map((part) => encodeShare(set, part));
  } finally {
    for (const part of parts) part.fill(0);
  }
}

export function assertParameters(shares: number, threshold: number): void {
  if (
    !Number.isInteger(shares) ||
    !Number.isInteger(threshold) ||
    threshold < 2 ||
    threshold > shares ||
    shares > MAX_SHARES
  ) {
    throw new KeyProviderError("provider_misconfigured", `--threshold M and --shares N need 2 ≤ M ≤ N ≤ ${MAX_SHARES}`);
  }
}

/**
 * One share's set and bytes (33), or KeyProviderError("vault_share_invalid"). The message never quotes the input:
 * a share that is nearly right is nearly a share.
 */
export function decodeShare(text: string): CustodianShare {
  const trimmed = text.trim();
  const legacy = trimmed.startsWith(LEGACY_SHARE_PREFIX);
  const setBytes = legacy ? 0 : SHARE_SET_BYTES;
  const prefix = legacy ? LEGACY_SHARE_PREFIX : SHARE_PREFIX;
  const bytes = trimmed.startsWith(prefix) ? decodeCanonical(trimmed.slice(prefix.length), "base64url") : null;
  if (!bytes || bytes.length !== setBytes + SHARE_BYTES + CHECKSUM_BYTES) {
    bytes?.fill(0);
    throw shareInvalid();
  }
  const set = bytes.subarray(0, setBytes);
  const share = Buffer.from(bytes.subarray(setBytes, setBytes + SHARE_BYTES));
  const ok = timingSafeEqual(checksum(set, share), bytes.subarray(setBytes + SHARE_BYTES));
  const shareSet = legacy ? null : set.toString("base64url");
  bytes.fill(0);
  if (!ok) {
    share.fill(0);
    throw shareInvalid();
  }
  return { shareSet, bytes: share };
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

function encodeShare(set: Buffer, share: Uint8Array): string {
  const bytes = Buffer.concat([set, share, checksum(set, share)]);
  try {
    return SHARE_PREFIX + bytes.toString("base64url");
  } finally {
    bytes.fill(0);
  }
}

function shareSetBytes(shareSet: string): Buffer {
  const bytes = decodeCanonical(shareSet, "base64url");
  if (!bytes || bytes.length !== SHARE_SET_BYTES) throw new Error("a share set id is 8 bytes, base64url");
  return bytes;
}

/** SHA-256 over the set and the share (v2), or over the share alone (an `mpvs1_` share, whose set is empty). */
function checksum(set: Uint8Array, share: Uint8Array): Buffer {
  const hash =
    set.length === 0
      ? createHash("sha256").update("mpay-vault-share/v1|")
      : createHash("sha256").update("mpay-vault-share/v2|").update(set);
  return hash.update(share).digest().subarray(0, CHECKSUM_BYTES);
}

export function shareRetired(): KeyProviderError {
  return new KeyProviderError(
    "vault_share_retired",
    "that share belongs to a share set that `mpay vault rekey` replaced: it no longer unseals this vault. It was not counted; the shares received so far are kept",
  );
}

export function notThisVaultsShare(): KeyProviderError {
  return new KeyProviderError(
    "vault_share_invalid",
    "that share is not of this vault's share set (another vault's?); it was not counted, the shares received so far are kept",
  );
}

function shareInvalid(): KeyProviderError {
  return new KeyProviderError(
    "vault_share_invalid",
    "that is not an MPay vault share (mpvs1_…), or it was mistyped; the shares received so far are kept",
  );
}
