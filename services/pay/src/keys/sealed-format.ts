/**
 * The text form of a sealed blob: `mk1.<keyVersion>.<base64url(nonce | ciphertext | tag)>`.
 * It names its key version so blobs sealed before a rotation still open, and its format (`mk1`) so a later
 * format can live beside it. It fits in a text column and in JSON without escaping.
 */
import { decodeCanonical, parseKeyVersion } from "./encoding.ts";

const FORMAT = "mk1";
/** AES-GCM's standard 96-bit nonce: random per seal (NIST SP 800-38D, 8.2.2). */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

export interface SealedParts {
  keyVersion: number;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export function formatSealed(parts: SealedParts): string {
  const payload = Buffer.concat([parts.nonce, parts.ciphertext, parts.tag]).toString("base64url");
  return `${FORMAT}.${parts.keyVersion}.${payload}`;
}

/** Returns null for anything that is not a well-formed blob; the caller turns that into `seal_invalid`. */
export function parseSealed(sealed: string): SealedParts | null {
  const fields = sealed.split(".");
  if (fields.length !== 3 || fields[0] !== FORMAT) return null;
  const keyVersion = parseKeyVersion(fields[1] ?? "");
  const payload = decodeCanonical(fields[2] ?? "", "base64url");
  if (keyVersion === null || payload === null || payload.length < NONCE_BYTES + TAG_BYTES) return null;
  return {
    keyVersion,
    nonce: payload.subarray(0, NONCE_BYTES),
    ciphertext: payload.subarray(NONCE_BYTES, payload.length - TAG_BYTES),
    tag: payload.subarray(payload.length - TAG_BYTES),
  };
}
