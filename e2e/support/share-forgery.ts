/**
 * What an insider can make of custodian shares without the vault's help, for drill (f): read a share's set and
 * bytes, write a share of any set with a valid checksum (the checksum catches typos, not forgeries: it is a plain
 * SHA-256, shamir-shares.ts), and forge the missing M-th share that makes M−1 real shares combine to ANY 32-byte
 * value. That last one is why M−1 shares tell nothing about the master key: every key is equally consistent with
 * them, and only the vault's check value tells the right one.
 *
 * The forgery uses the sharing library's own interpolation: with P the polynomial of the real shares and x_k a
 * fresh x coordinate, Q(x) = P(x ⊕ x_k) is a polynomial of the same degree over GF(2^8) (addition is XOR there),
 * through (x_i ⊕ x_k, y_i) and (x_k, target); so combining those points (the library evaluates at 0) gives
 * Q(0) = P(x_k), the y of the forged share at x_k.
 */
import { createHash } from "node:crypto";
import { combine } from "shamir-secret-sharing";

const PREFIX = "mpvs2_";

export interface ShareParts {
  /** The share set id, 8 bytes. */
  set: Buffer;
  /** 32 y bytes and the x coordinate last. */
  bytes: Uint8Array;
}

export function shareParts(text: string): ShareParts {
  const raw = Buffer.from(text.slice(PREFIX.length), "base64url");
  return { set: raw.subarray(0, 8), bytes: new Uint8Array(raw.subarray(8, 41)) };
}

/** A well-formed share text of `set` (checksum included), whatever the bytes. */
export function shareText(set: Buffer, bytes: Uint8Array): string {
  const sum = createHash("sha256").update("mpay-vault-share/v2|").update(set).update(bytes).digest().subarray(0, 4);
  return PREFIX + Buffer.concat([set, bytes, sum]).toString("base64url");
}

/** The share at a fresh x coordinate that, combined with `real` (M−1 share byte strings), gives `target`. */
export async function forgeMissingShare(real: Uint8Array[], target: Uint8Array): Promise<Uint8Array> {
  const used = new Set(real.map((s) => s[32]));
  let x = 1;
  while (used.has(x)) x++;
  const shifted = real.map((s) => {
    const copy = Uint8Array.from(s);
    copy[32] = (s[32] ?? 0) ^ x;
    return copy;
  });
  const anchor = new Uint8Array(33);
  anchor.set(target);
  anchor[32] = x;
  const forged = new Uint8Array(33);
  forged.set(await combine([...shifted, anchor]));
  forged[32] = x;
  return forged;
}
