/**
 * The browser key store: records in one IndexedDB object store, `CryptoKey` objects kept as they are by
 * structured clone. A private or secret key must be non-extractable to be put here, and stays so: its bytes never
 * reach JavaScript, so script that runs later in the page can use the key while the page is open but cannot copy
 * it off the device. (Deleting the site's data deletes the keys; the device then enrolls again.)
 */
import { WalletError } from "./errors.ts";
import { assertRecordName, isConfidentialKey, isStoredRecord, type KeyStore, type StoredRecord } from "./key-store.ts";

const OBJECT_STORE = "records";
const SCHEMA_VERSION = 1;

export interface IndexedDbKeyStoreOptions {
  /** Database name; one per wallet. Default `mpay-wallet`. */
  databaseName?: string;
  /** The IndexedDB factory; default `globalThis.indexedDB` (tests pass or install `fake-indexeddb`). */
  indexedDB?: IDBFactory;
}

export class IndexedDbKeyStore implements KeyStore {
  readonly keepsKeysNonExtractable = true;
  readonly #databaseName: string;
  readonly #factory: IDBFactory | undefined;
  #database: Promise<IDBDatabase> | undefined;

  constructor(options: IndexedDbKeyStoreOptions = {}) {
    this.#databaseName = options.databaseName ?? "mpay-wallet";
    this.#factory = options.indexedDB ?? globalThis.indexedDB;
  }

  async get(name: string): Promise<StoredRecord | undefined> {
    assertRecordName(name);
    const database = await this.#open();
    const value: unknown = await settle(
      database.transaction(OBJECT_STORE, "readonly").objectStore(OBJECT_STORE).get(name),
    );
    if (value === undefined) return undefined;
    if (!isStoredRecord(value))
      throw new WalletError("key_store_unreadable", `the key store record "${name}" has an unknown shape`);
    return value;
  }

  async put(name: string, record: StoredRecord): Promise<void> {
    assertRecordName(name);
    if (!isStoredRecord(record)) throw new TypeError("not a key store record");
    for (const key of keysOf(record)) {
      if (isConfidentialKey(key) && key.extractable) {
        throw new WalletError(
          "key_extractable",
          "the browser key store keeps only non-extractable private and secret keys; generate the key with extractable: false",
        );
      }
    }
    const database = await this.#open();
    const transaction = database.transaction(OBJECT_STORE, "readwrite");
    transaction.objectStore(OBJECT_STORE).put(record, name);
    await completion(transaction);
  }

  async delete(name: string): Promise<void> {
    assertRecordName(name);
    const database = await this.#open();
    const transaction = database.transaction(OBJECT_STORE, "readwrite");
    transaction.objectStore(OBJECT_STORE).delete(name);
    await completion(transaction);
  }

  /** Closes the connection; a later call opens it again. */
  async close(): Promise<void> {
    const database = this.#database;
    this.#database = undefined;
    if (database) (await database).close();
  }

  #open(): Promise<IDBDatabase> {
    this.#database ??= this.#connect();
    return this.#database;
  }

  async #connect(): Promise<IDBDatabase> {
    const factory = this.#factory;
    if (!factory)
      throw new WalletError(
        "key_store_unavailable",
        "IndexedDB is not available here (a Node process uses FileKeyStore from @mpay/wallet/node)",
      );
    const request = factory.open(this.#databaseName, SCHEMA_VERSION);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(OBJECT_STORE)) request.result.createObjectStore(OBJECT_STORE);
    };
    try {
      const database = await settle(request);
      // Another tab upgrading the schema must not wait on us forever: close, and reopen on next use.
      database.onversionchange = () => {
        database.close();
        this.#database = undefined;
      };
      return database;
    } catch (error) {
      this.#database = undefined;
      throw error;
    }
  }
}

function keysOf(record: StoredRecord): CryptoKey[] {
  if (record.type === "key") return [record.key];
  if (record.type === "keyPair") return [record.keyPair.privateKey, record.keyPair.publicKey];
  return [];
}

function settle<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB request failed"));
  });
}

/** Resolves once the transaction has committed, which is when a write is durable. */
function completion(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error ?? new Error("IndexedDB transaction failed"));
    transaction.onabort = () => reject(transaction.error ?? new Error("IndexedDB transaction aborted"));
  });
}
