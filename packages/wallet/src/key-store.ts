/**
 * Where the device keeps its keys and small secrets between sessions: the device key pair, the wrapping key of
 * K_dev, the wrapped K_dev itself and the record versions it sealed (DESIGN.md, "Split custody").
 *
 * One small interface, two implementations (as stripe-node's CryptoProvider has a Node and a Web one):
 * - `IndexedDbKeyStore` (browsers): stores `CryptoKey` objects as they are, by structured clone. A key made with
 *   `extractable: false` stays non-extractable: its bytes never reach JavaScript, not even ours.
 * - `FileKeyStore` (Node tests and tools, import from `@mpay/wallet/node`): Node cannot persist a non-extractable
 *   key, so it keeps an encrypted JWK in a file. It is the test stand-in for an OS keystore, not a protection.
 *
 * Whatever the store, a private or secret key read back with `get` is non-extractable, and it is usable for the
 * algorithm and usages it was made with. Both implementations pass the suite in `key-store.case.ts`.
 *
 * Bytes and JSON are kept as given: IndexedDB writes them to disk in clear. A secret (K_dev) is therefore wrapped
 * with a non-extractable key from this store before it is put here as bytes, never put in clear.
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type StoredRecord =
  | { readonly type: "key"; readonly key: CryptoKey }
  | { readonly type: "keyPair"; readonly keyPair: CryptoKeyPair }
  | { readonly type: "bytes"; readonly bytes: Uint8Array }
  | { readonly type: "json"; readonly json: JsonValue };

export interface KeyStore {
  /**
   * True when the store keeps keys non-extractable at rest (IndexedDB). False when it must export a key to keep
   * it (the file store): then make keys with `extractable: true`, `put` them, and use the copy that `get` returns,
   * which is non-extractable. See `keyExtractabilityFor`.
   */
  readonly keepsKeysNonExtractable: boolean;
  get(name: string): Promise<StoredRecord | undefined>;
  /** Writes the record under `name`, replacing any record there. Durable when the promise resolves. */
  put(name: string, record: StoredRecord): Promise<void>;
  /** Removes the record; removing a missing name is not an error. */
  delete(name: string): Promise<void>;
}

/** The `extractable` flag to generate a private or secret key with, so that `store` can keep it. */
export function keyExtractabilityFor(store: KeyStore): boolean {
  return !store.keepsKeysNonExtractable;
}

/** Record names are short, printable and free of path or separator characters, in every store. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function assertRecordName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new TypeError(
      "a key store record name is 1-128 characters of A-Z a-z 0-9 . _ : - and starts with a letter or digit",
    );
  }
}

/** Private and secret keys are the ones whose bytes must stay out of reach; public keys are always extractable. */
export function isConfidentialKey(key: CryptoKey): boolean {
  return key.type !== "public";
}

/** Checks a record's shape at run time (callers may be plain JavaScript, and stored data may be old or foreign). */
export function isStoredRecord(value: unknown): value is StoredRecord {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  switch (record["type"]) {
    case "key":
      return record["key"] instanceof CryptoKey;
    case "keyPair": {
      const pair = record["keyPair"] as Record<string, unknown> | null | undefined;
      return (
        typeof pair === "object" &&
        pair !== null &&
        pair["privateKey"] instanceof CryptoKey &&
        pair["publicKey"] instanceof CryptoKey
      );
    }
    case "bytes":
      return record["bytes"] instanceof Uint8Array;
    case "json":
      return "json" in record && record["json"] !== undefined;
    default:
      return false;
  }
}
