/**
 * Strict decoding for the text forms the key providers read back (key files, sealed blobs, MAC tags).
 * Node's Buffer.from(text, "base64") skips characters it does not know and ignores trailing bits, so two
 * different strings can decode to the same bytes; accepting only the canonical form keeps one string per value
 * (a flipped character is then always a different blob, never a silent alias).
 */

export function decodeCanonical(text: string, encoding: "base64" | "base64url"): Buffer | null {
  const bytes = Buffer.from(text, encoding);
  return bytes.toString(encoding) === text ? bytes : null;
}

/**
 * Key versions are written as decimal without leading zeros, at most 9 digits, so they stay exact and fit the
 * `integer` column that stores a MAC's key version.
 */
export function parseKeyVersion(text: string): number | null {
  return /^[1-9][0-9]{0,8}$/.test(text) ? Number(text) : null;
}

export function isKeyVersion(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0 && value < 1e9;
}
