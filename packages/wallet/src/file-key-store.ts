/**
 * The Node key store: the test and tooling stand-in for an OS keystore. Say it plainly: it does NOT keep keys
 * non-extractable at rest. Node cannot persist a non-extractable `CryptoKey`, so this store exports each key as a
 * JWK and keeps it in a JSON file, encrypted (AES-256-GCM) under a wrapping key that HKDF derives from a 32-byte
 * device secret given to the constructor. Whoever holds both the file and that secret holds the keys. In a browser
 * use `IndexedDbKeyStore`, the store that keeps keys non-extractable; on a phone, the OS keystore.
 *
 * What it does guarantee, like every store (`key-store.case.ts`): keys read back with `get` are non-extractable in
 * memory, records are bound to their names (the name is the AES-GCM additional data, so records cannot be swapped
 * between names in the file), the file is written atomically (temporary file, fsync, rename) with mode 0600, and
 * operations on one instance run one at a time. Two processes writing the same file at once are not supported.
 *
 * Node only (node:fs); import it from `@mpay/wallet/node`. Its cryptography is WebCrypto like the rest of the SDK.
 */
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { base64url } from "jose";
import { arrayBufferBytes } from "./bytes.ts";
import { WalletError } from "./errors.ts";
import {
  assertRecordName,
  isConfidentialKey,
  isStoredRecord,
  type JsonValue,
  type KeyStore,
  type StoredRecord,
} from "./key-store.ts";
import { wipe } from "./secrets.ts";

const FORMAT = "mpay-file-key-store/1";
const WRAPPING_KEY_INFO = "mpay/v1|file-key-store|wrapping-key";
const DEVICE_SECRET_BYTES = 32;
/** Algorithms a stored key may have: the EC and AES/HMAC families the wallet uses. RSA is not needed and not kept. */
const KEY_ALGORITHMS = new Set([
  "ECDSA",
  "ECDH",
  "AES-GCM",
  "AES-KW",
  "AES-CBC",
  "AES-CTR",
  "HMAC",
  "Ed25519",
  "X25519",
]);

interface StoredAlgorithm {
  name: string;
  namedCurve?: string;
  hash?: string;
}
interface SerializedKey {
  jwk: JsonWebKey;
  algorithm: StoredAlgorithm;
  usages: KeyUsage[];
}
type SerializedRecord =
  | { type: "key"; key: SerializedKey }
  | { type: "keyPair"; privateKey: SerializedKey; publicKey: SerializedKey }
  | { type: "bytes"; bytes: string }
  | { type: "json"; json: JsonValue };
interface SealedRecord {
  iv: string;
  ciphertext: string;
}
interface KeyFile {
  format: typeof FORMAT;
  records: Record<string, SealedRecord>;
}

export class FileKeyStore implements KeyStore {
  readonly keepsKeysNonExtractable = false;
  readonly #path: string;
  readonly #wrappingKey: Promise<CryptoKey>;
  #queue: Promise<unknown> = Promise.resolve();

  /** A fresh device secret (32 bytes from the CSPRNG) for a new store. Keep it apart from the file. */
  static newDeviceSecret(): Uint8Array {
    return crypto.getRandomValues(new Uint8Array(DEVICE_SECRET_BYTES));
  }

  /**
   * @param path the JSON file (created on first `put`, mode 0600; its folder is created with mode 0700).
   * @param deviceSecret 32 random bytes. The store keeps only a non-extractable key derived from a copy of it; the
   *   caller's array is left as it is, for the caller to wipe.
   */
  constructor(path: string, deviceSecret: Uint8Array) {
    if (!(deviceSecret instanceof Uint8Array) || deviceSecret.length !== DEVICE_SECRET_BYTES) {
      throw new WalletError(
        "key_store_secret_invalid",
        `the device secret of a FileKeyStore is ${DEVICE_SECRET_BYTES} random bytes`,
      );
    }
    this.#path = path;
    this.#wrappingKey = deriveWrappingKey(deviceSecret.slice());
    // Surfaced on first use; without this an unused store would report an unhandled rejection.
    this.#wrappingKey.catch(() => undefined);
  }

  async get(name: string): Promise<StoredRecord | undefined> {
    assertRecordName(name);
    return this.#serially(async () => {
      const { records } = await this.#read();
      const sealed = Object.hasOwn(records, name) ? records[name] : undefined;
      if (sealed === undefined) return undefined;
      return deserialize(await this.#open(name, sealed));
    });
  }

  async put(name: string, record: StoredRecord): Promise<void> {
    assertRecordName(name);
    if (!isStoredRecord(record)) throw new TypeError("not a key store record");
    return this.#serially(async () => {
      const sealed = await this.#seal(name, await serialize(record));
      const file = await this.#read();
      file.records[name] = sealed;
      await this.#write(file);
    });
  }

  async delete(name: string): Promise<void> {
    assertRecordName(name);
    return this.#serially(async () => {
      const file = await this.#read();
      if (!Object.hasOwn(file.records, name)) return;
      delete file.records[name];
      await this.#write(file);
    });
  }

  /** Runs operations one after another, so that two puts never lose each other's record. */
  #serially<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation, operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #seal(name: string, record: SerializedRecord): Promise<SealedRecord> {
    const plaintext = new TextEncoder().encode(JSON.stringify(record));
    try {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const ciphertext = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: aad(name) },
        await this.#wrappingKey,
        plaintext,
      );
      return { iv: base64url.encode(iv), ciphertext: base64url.encode(new Uint8Array(ciphertext)) };
    } finally {
      wipe(plaintext);
    }
  }

  async #open(name: string, sealed: SealedRecord): Promise<SerializedRecord> {
    let plaintext: Uint8Array;
    try {
      const iv = arrayBufferBytes(base64url.decode(sealed.iv));
      const ciphertext = arrayBufferBytes(base64url.decode(sealed.ciphertext));
      plaintext = new Uint8Array(
        await crypto.subtle.decrypt(
          { name: "AES-GCM", iv, additionalData: aad(name) },
          await this.#wrappingKey,
          ciphertext,
        ),
      );
    } catch {
      // No cause attached: nothing from a failed decryption belongs in an error.
      throw new WalletError(
        "key_store_unreadable",
        `the key store record "${name}" cannot be decrypted: another device secret, or the file was changed`,
      );
    }
    try {
      return JSON.parse(new TextDecoder().decode(plaintext)) as SerializedRecord;
    } finally {
      wipe(plaintext);
    }
  }

  async #read(): Promise<KeyFile> {
    let text: string;
    try {
      text = await readFile(this.#path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { format: FORMAT, records: {} };
      throw error;
    }
    let file: unknown;
    try {
      file = JSON.parse(text);
    } catch {
      file = undefined;
    }
    if (!isKeyFile(file))
      throw new WalletError("key_store_unreadable", `${this.#path} is not an MPay key store file (${FORMAT})`);
    return file;
  }

  /** Atomic replace: a crash leaves either the old file or the new one, never half of one. */
  async #write(file: KeyFile): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
    const temporary = `${this.#path}.${base64url.encode(crypto.getRandomValues(new Uint8Array(9)))}.tmp`;
    const handle = await open(temporary, "wx", 0o600);
    try {
      try {
        await handle.writeFile(JSON.stringify(file, null, 2) + "\n", "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, this.#path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  }
}

async function deriveWrappingKey(secret: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  try {
    const material = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
    // The device secret is uniformly random, so HKDF needs no salt (RFC 5869, section 3.1).
    return await crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(WRAPPING_KEY_INFO) },
      material,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
  } finally {
    wipe(secret);
  }
}

function aad(name: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`mpay/v1|file-key-store|record|${name}`);
}

function isKeyFile(value: unknown): value is KeyFile {
  if (typeof value !== "object" || value === null) return false;
  const file = value as Record<string, unknown>;
  return (
    file["format"] === FORMAT &&
    typeof file["records"] === "object" &&
    file["records"] !== null &&
    !Array.isArray(file["records"])
  );
}

async function serialize(record: StoredRecord): Promise<SerializedRecord> {
  switch (record.type) {
    case "key":
      return { type: "key", key: await exportKey(record.key) };
    case "keyPair":
      return {
        type: "keyPair",
        privateKey: await exportKey(record.keyPair.privateKey),
        publicKey: await exportKey(record.keyPair.publicKey),
      };
    case "bytes":
      return { type: "bytes", bytes: base64url.encode(record.bytes) };
    case "json":
      return { type: "json", json: record.json };
  }
}

async function deserialize(record: SerializedRecord): Promise<StoredRecord> {
  switch (record.type) {
    case "key":
      return { type: "key", key: await importKey(record.key) };
    case "keyPair":
      return {
        type: "keyPair",
        keyPair: { privateKey: await importKey(record.privateKey), publicKey: await importKey(record.publicKey) },
      };
    case "bytes":
      return { type: "bytes", bytes: base64url.decode(record.bytes) };
    case "json":
      return { type: "json", json: record.json };
  }
}

async function exportKey(key: CryptoKey): Promise<SerializedKey> {
  const algorithm = storedAlgorithm(key.algorithm);
  if (!key.extractable) {
    throw new WalletError(
      "key_not_exportable",
      "the file key store must export a key to keep it: generate it with extractable: keyExtractabilityFor(store)",
    );
  }
  return { jwk: await crypto.subtle.exportKey("jwk", key), algorithm, usages: [...key.usages] };
}

/** Private and secret keys come back non-extractable; public keys are extractable by definition. */
async function importKey(serialized: SerializedKey): Promise<CryptoKey> {
  const { name, namedCurve, hash } = serialized.algorithm;
  const algorithm = namedCurve !== undefined ? { name, namedCurve } : hash !== undefined ? { name, hash } : { name };
  const extractable = serialized.jwk.d === undefined && serialized.jwk.k === undefined;
  const key = await crypto.subtle.importKey("jwk", serialized.jwk, algorithm, extractable, serialized.usages);
  if (isConfidentialKey(key) && key.extractable)
    throw new WalletError("key_store_unreadable", "a stored private key came back extractable");
  return key;
}

function storedAlgorithm(algorithm: KeyAlgorithm): StoredAlgorithm {
  if (!KEY_ALGORITHMS.has(algorithm.name)) {
    throw new WalletError(
      "key_algorithm_unsupported",
      `the key store keeps ${[...KEY_ALGORITHMS].join(", ")} keys, not ${algorithm.name}`,
    );
  }
  const { namedCurve } = algorithm as EcKeyAlgorithm;
  const { hash } = algorithm as HmacKeyAlgorithm;
  return {
    name: algorithm.name,
    ...(typeof namedCurve === "string" ? { namedCurve } : {}),
    ...(hash !== undefined ? { hash: hash.name } : {}),
  };
}
