/**
 * The device's half of each card's key (DESIGN.md "Split custody"): K_dev, kept in the key store wrapped
 * (AES-256-GCM) by a non-extractable wrapping key of the same store, never in clear, with the record version
 * this device last sealed (a record rolled back to an older version is refused). One record per card:
 * `card:<cardId>`. K_dev leaves the store only unwrapped into a Uint8Array that the caller wipes.
 */
import { base64url } from "jose";
import { WalletError } from "./errors.ts";
import { keyExtractabilityFor, type JsonValue, type KeyStore } from "./key-store.ts";

const WRAPPING_KEY_RECORD = "card-share-wrapping-key";
const encoder = new TextEncoder();

/** What the wallet keeps of a card besides its share: enough to show it and to check what the server hands back. */
export interface CardKeyRecord {
  cardId: string;
  payerId: string;
  /** The pay server's id of this device (part of the records' AAD). */
  deviceId: string;
  issuerId: string;
  /** The issuer's reference: a payment's terms must name it. */
  cardRef: string;
  last4: string;
  brand: string;
  recordVersion: number;
}

function recordName(cardId: string): string {
  if (!/^card_[0-9A-Z]{26}$/.test(cardId)) throw new WalletError("card_not_on_device", "not a card id");
  return `card:${cardId}`;
}

async function wrappingKey(store: KeyStore): Promise<CryptoKey> {
  const existing = await store.get(WRAPPING_KEY_RECORD);
  if (existing?.type === "key") return existing.key;
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, keyExtractabilityFor(store), [
    "encrypt",
    "decrypt",
  ]);
  await store.put(WRAPPING_KEY_RECORD, { type: "key", key });
  const stored = await store.get(WRAPPING_KEY_RECORD);
  if (stored?.type !== "key")
    throw new WalletError("key_store_unavailable", "the key store did not keep the card share wrapping key");
  return stored.key;
}

function aad(cardId: string, version: number): Uint8Array<ArrayBuffer> {
  return encoder.encode(`mpay/v1|k-dev|${cardId}|${version}`);
}

/** Keeps K_dev for a card (wrapped), with the record version just sealed. Does not wipe `kDev`: the caller does. */
export async function keepCardShare(store: KeyStore, card: CardKeyRecord, kDev: Uint8Array): Promise<void> {
  const key = await wrappingKey(store);
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: aad(card.cardId, card.recordVersion) },
      key,
      new Uint8Array(kDev),
    ),
  );
  const json: JsonValue = { ...card, nonce: base64url.encode(nonce), wrappedShare: base64url.encode(wrapped) };
  await store.put(recordName(card.cardId), { type: "json", json });
}

export async function cardRecordOf(
  store: KeyStore,
  cardId: string,
): Promise<(CardKeyRecord & { nonce: string; wrappedShare: string }) | undefined> {
  const record = await store.get(recordName(cardId));
  if (record === undefined) return undefined;
  if (record.type !== "json" || typeof record.json !== "object" || record.json === null || Array.isArray(record.json)) {
    throw new WalletError("key_store_unreadable", "the card's key record is damaged");
  }
  return record.json as unknown as CardKeyRecord & { nonce: string; wrappedShare: string };
}

/** K_dev of a card on this device, unwrapped; the caller wipes it. */
export async function takeCardShare(
  store: KeyStore,
  cardId: string,
): Promise<{ record: CardKeyRecord; kDev: Uint8Array }> {
  const record = await cardRecordOf(store, cardId);
  if (record === undefined) throw new WalletError("card_not_on_device", "this card was not enrolled on this device");
  const key = await wrappingKey(store);
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: new Uint8Array(base64url.decode(record.nonce)),
        additionalData: aad(cardId, record.recordVersion),
      },
      key,
      new Uint8Array(base64url.decode(record.wrappedShare)),
    );
    const { nonce: _nonce, wrappedShare: _wrapped, ...rest } = record;
    return { record: rest, kDev: new Uint8Array(plain) };
  } catch {
    throw new WalletError("key_store_unreadable", "the card's share does not unwrap on this device");
  }
}

export async function forgetCardShare(store: KeyStore, cardId: string): Promise<void> {
  await store.delete(recordName(cardId));
}
