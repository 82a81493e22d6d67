/**
 * Sealed records (DESIGN.md "Split custody"): the card record and the personal record are each sealed with
 * AES-256-GCM (a random 96-bit nonce per seal) under a key derived from the DEK with HKDF-SHA256, info
 * `mpay/v1|<purpose>|<cardId>`, and AAD = card id, payer id, device id and record version. So a record opens only
 * with its own DEK, for its own purpose, card, payer and device, at the version the device expects: a record
 * copied to another card or rolled back to an older version is refused.
 *
 * WebCrypto only: this runs on the device (browser or Node), never with a DEK on the server.
 */
import { base64url } from "jose";
export type RecordPurpose = "card" | "profile";

export interface RecordBinding {
  purpose: RecordPurpose;
  cardId: string;
  payerId: string;
  deviceId: string;
  /** Counts up with each re-seal; the device remembers the newest it made. */
  version: number;
}

export class SealedRecordError extends Error {
  readonly code = "record_invalid";
  constructor(message: string) {
    super(message);
    this.name = "SealedRecordError";
  }
}

const FORMAT = "r1";
const NONCE_BYTES = 12;
const encoder = new TextEncoder();

function aad(b: RecordBinding): Uint8Array<ArrayBuffer> {
  for (const part of [b.cardId, b.payerId, b.deviceId]) {
    if (part.includes("|") || part.length === 0) throw new RangeError("record ids are non-empty and free of '|'");
  }
  if (!Number.isSafeInteger(b.version) || b.version < 1) throw new RangeError("a record version is a positive integer");
  return encoder.encode(`mpay/v1|${b.purpose}|${b.cardId}|${b.payerId}|${b.deviceId}|${b.version}`);
}

async function recordKey(dek: Uint8Array, b: RecordBinding, usage: KeyUsage): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", new Uint8Array(dek), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: encoder.encode(`mpay/v1|${b.purpose}|${b.cardId}`),
    },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    [usage],
  );
}

/** Seals `plaintext` (JSON text of the record): `r1.<version>.<nonce>.<ciphertext+tag>`, base64url parts. */
export async function sealRecord(dek: Uint8Array, binding: RecordBinding, plaintext: Uint8Array): Promise<string> {
  const key = await recordKey(dek, binding, "encrypt");
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: aad(binding) },
      key,
      new Uint8Array(plaintext),
    ),
  );
  return [FORMAT, String(binding.version), base64url.encode(nonce), base64url.encode(ciphertext)].join(".");
}

/** Opens a record sealed by `sealRecord` for exactly this binding; the caller wipes the plaintext after use. */
export async function openRecord(dek: Uint8Array, binding: RecordBinding, sealed: string): Promise<Uint8Array> {
  const parts = sealed.split(".");
  if (parts.length !== 4 || parts[0] !== FORMAT) throw new SealedRecordError("not a sealed record");
  if (parts[1] !== String(binding.version))
    throw new SealedRecordError("the record's version is not the one this device sealed");
  const key = await recordKey(dek, binding, "decrypt");
  try {
    const nonce = new Uint8Array(base64url.decode(parts[2]!));
    const ciphertext = new Uint8Array(base64url.decode(parts[3]!));
    return new Uint8Array(
      await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonce, additionalData: aad(binding) }, key, ciphertext),
    );
  } catch {
    throw new SealedRecordError("the record does not open with this key, or was altered or moved");
  }
}

/** The version written in a sealed record's header (unauthenticated until it opens). */
export function sealedRecordVersion(sealed: string): number | undefined {
  const [format, version] = sealed.split(".");
  return format === FORMAT && version !== undefined && /^\d{1,9}$/.test(version) ? Number(version) : undefined;
}
