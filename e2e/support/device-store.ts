/**
 * Reads a wallet's FileKeyStore file the way someone holding the file and its device secret would (the test's own
 * knowledge of the format documented in packages/wallet/src/file-key-store.ts and card-keys.ts), without the
 * wallet's code: every record decrypted to the JSON the store serialised (exported keys included), and the K_dev
 * of a card unwrapped from it. The drills use it to capture K_dev (to search for it elsewhere) and to search the
 * device store itself for what must never be kept there.
 */
import { readFile } from "node:fs/promises";

export interface DecryptedRecord {
  name: string;
  /** The record as the store serialised it before encryption (JSON text). */
  plaintext: string;
}

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();
const b64u = (text: string) => new Uint8Array(Buffer.from(text, "base64url"));

async function storeKey(deviceSecret: Uint8Array): Promise<CryptoKey> {
  const material = await subtle.importKey("raw", new Uint8Array(deviceSecret), "HKDF", false, ["deriveKey"]);
  return subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: encoder.encode("mpay/v1|file-key-store|wrapping-key"),
    },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["decrypt"],
  );
}

/** The raw file (what a thief copies) and every record in it, decrypted with the device secret. */
export async function readDeviceStore(
  path: string,
  deviceSecret: Uint8Array,
): Promise<{ file: string; records: DecryptedRecord[] }> {
  const file = await readFile(path, "utf8");
  const parsed = JSON.parse(file) as { records: Record<string, { iv: string; ciphertext: string }> };
  const key = await storeKey(deviceSecret);
  const records: DecryptedRecord[] = [];
  for (const [name, sealed] of Object.entries(parsed.records)) {
    const plain = await subtle.decrypt(
      { name: "AES-GCM", iv: b64u(sealed.iv), additionalData: encoder.encode(`mpay/v1|file-key-store|record|${name}`) },
      key,
      b64u(sealed.ciphertext),
    );
    records.push({ name, plaintext: new TextDecoder().decode(plain) });
  }
  return { file, records };
}

/** K_dev of `cardId`: the card's wrapped share opened with the store's wrapping key (AAD `mpay/v1|k-dev|card|version`). */
export async function cardShareOf(records: readonly DecryptedRecord[], cardId: string): Promise<Uint8Array> {
  const json = (name: string) =>
    JSON.parse(records.find((r) => r.name === name)?.plaintext ?? "null") as Record<string, unknown> | null;
  const wrapping = json("card-share-wrapping-key") as { key?: { jwk?: { k?: string } } } | null;
  const card = (
    json(`card:${cardId}`) as { json?: { nonce: string; wrappedShare: string; recordVersion: number } } | null
  )?.json;
  if (!wrapping?.key?.jwk?.k || !card) throw new Error(`the device store holds no share of ${cardId}`);
  const key = await subtle.importKey("raw", b64u(wrapping.key.jwk.k), "AES-GCM", false, ["decrypt"]);
  const plain = await subtle.decrypt(
    {
      name: "AES-GCM",
      iv: b64u(card.nonce),
      additionalData: encoder.encode(`mpay/v1|k-dev|${cardId}|${card.recordVersion}`),
    },
    key,
    b64u(card.wrappedShare),
  );
  return new Uint8Array(plain);
}
