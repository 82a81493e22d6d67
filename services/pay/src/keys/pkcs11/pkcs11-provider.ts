/**
 * The `pkcs11` key provider: the KEK (AES-256) and the MAC key (HMAC-SHA256 generic secret) are made inside the
 * token as sensitive, non-extractable objects, and every seal, open, MAC and MAC check runs inside it, so no key
 * byte is ever in this process (DESIGN.md "Key providers": "the KEK never leaves the HSM").
 *
 * Versions are token objects labelled `mpay-kek-v<n>` and `mpay-mac-v<n>`; the sealed-blob format
 * (sealed-format.ts) names the version, and the `key_versions` table says which one new seals use.
 * The purpose is bound as in the software providers: in the GCM AAD (`<purpose>|<aad>`) and as a prefix of the
 * MACed bytes (purposes contain no "|", so the prefix is unambiguous).
 *
 * Audit chain heads are signed in the token too, with an EC P-256 key pair made there (pkcs11-audit-key.ts).
 *
 * The calls into the token are synchronous (pkcs11js's sync API on one session): a call never interleaves with
 * another on the session, and SoftHSM2 answers in microseconds. A network HSM with millisecond calls would want a
 * pool of sessions and the async API instead.
 */
import { randomBytes } from "node:crypto";
import * as graphene from "graphene-pk11";
import type { Db } from "../../db/client.ts";
import { decodeCanonical, isKeyVersion, parseKeyVersion } from "../encoding.ts";
import { SharedKeyVersion } from "../key-versions.ts";
import { ckr, openTokenSession, type Pkcs11Settings, type TokenSession } from "./pkcs11-token.ts";
import { ensureAuditKey, findAuditKey, lockAuditKey, signInToken, type TokenAuditKey } from "./pkcs11-audit-key.ts";
import { KeyProviderError } from "../provider.ts";
import type { AuditPublicKey, KeyProvider, KeyProviderStatus, KeyPurpose } from "../provider.ts";
import { formatSealed, NONCE_BYTES, parseSealed, TAG_BYTES } from "../sealed-format.ts";
import { aadBytes, sealInvalid } from "../software-keyring.ts";

const KEK_LABEL = /^mpay-kek-v([1-9][0-9]{0,8})$/;
const kekLabel = (version: number) => `mpay-kek-v${version}`;
const macLabel = (version: number) => `mpay-mac-v${version}`;
/** What a tampered blob or a wrong AAD makes SoftHSM2 and other tokens answer to C_Decrypt with GCM. */
const DECRYPT_REFUSALS = new Set([
  "CKR_GENERAL_ERROR",
  "CKR_ENCRYPTED_DATA_INVALID",
  "CKR_ENCRYPTED_DATA_LEN_RANGE",
  "CKR_AEAD_DECRYPT_FAILED",
]);

interface VersionKeys {
  kek: graphene.SecretKey;
  mac: graphene.SecretKey;
}

export interface Pkcs11KeyProvider extends KeyProvider {
  readonly kind: "pkcs11";
  /** `mpay vault init`: makes key version 1 in the token; refused when the token or the database has one. */
  initialize(): Promise<number>;
}

export async function openPkcs11KeyProvider(settings: Pkcs11Settings, db: Db): Promise<Pkcs11KeyProvider> {
  const token = openTokenSession(settings);
  try {
    const provider = new Pkcs11Provider(token);
    await provider.share(db);
    await provider.adoptAuditKey(db);
    return provider;
  } catch (error) {
    token.close();
    throw error;
  }
}

class Pkcs11Provider implements Pkcs11KeyProvider {
  readonly kind = "pkcs11" as const;
  readonly #token: TokenSession;
  readonly #keys = new Map<number, VersionKeys>();
  #shared: SharedKeyVersion | null = null;
  #audit: TokenAuditKey | null = null;
  #closed = false;

  constructor(token: TokenSession) {
    this.#token = token;
  }

  async share(db: Db): Promise<void> {
    this.#shared = await SharedKeyVersion.open(db, "pkcs11", async (version) => void this.#find(version));
  }

  /** A token initialized before heads were signed gets its audit key pair now, once across processes. */
  async adoptAuditKey(db: Db): Promise<void> {
    if (this.#tokenVersions().length === 0) return; // `vault init` makes it
    await db.transaction(async (tx) => {
      await lockAuditKey(tx);
      this.#audit = await ensureAuditKey(this.#token.session, this.#token.tokenLabel);
    });
  }

  /**
   * Sealed also when the token lacks the version the database records: a database restored at a site whose HSM
   * does not hold the vault's keys (or a misplugged token) opens nothing, and must say so (503, `/readyz` not ready)
   * rather than look ready and fail every request that needs a key.
   */
  isSealed(): boolean {
    const current = this.#current();
    return current === null || !this.#holds(current);
  }

  currentKeyVersion(): number {
    const version = this.#current();
    if (version === null) throw notInitialized(this.#token.tokenLabel);
    if (!this.#holds(version)) throw wrongToken(version, this.#token.tokenLabel);
    return version;
  }

  async seal(purpose: KeyPurpose, plaintext: Uint8Array, aad: string): Promise<string> {
    const keyVersion = this.currentKeyVersion();
    const { kek } = this.#find(keyVersion);
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = this.#token.session.createCipher(gcm(nonce, purpose, aad), kek);
    // C_Encrypt refuses an empty input (CKR_ARGUMENTS_BAD); the multi-part form makes just the tag.
    const sealed =
      plaintext.length === 0
        ? cipher.final()
        : cipher.once(Buffer.from(plaintext), Buffer.alloc(plaintext.length + TAG_BYTES));
    return formatSealed({
      keyVersion,
      nonce,
      ciphertext: sealed.subarray(0, sealed.length - TAG_BYTES),
      tag: sealed.subarray(sealed.length - TAG_BYTES),
    });
  }

  async open(purpose: KeyPurpose, sealed: string, aad: string): Promise<Uint8Array> {
    this.#assertHoldsCurrent();
    const parts = parseSealed(sealed);
    if (!parts) throw sealInvalid();
    const { kek } = this.#find(parts.keyVersion);
    const input = Buffer.concat([parts.ciphertext, parts.tag]);
    try {
      const decipher = this.#token.session.createDecipher(gcm(parts.nonce, purpose, aad), kek);
      if (parts.ciphertext.length > 0) return decipher.once(input, Buffer.alloc(input.length));
      // The token releases GCM plaintext only at the end, after the tag checked out (no unauthenticated bytes).
      return Buffer.concat([decipher.update(input), decipher.final()]);
    } catch (error) {
      if (DECRYPT_REFUSALS.has(ckr(error) ?? "")) throw sealInvalid();
      throw error;
    }
  }

  async mac(purpose: KeyPurpose, data: Uint8Array): Promise<{ keyVersion: number; tag: string }> {
    const keyVersion = this.currentKeyVersion();
    const { mac } = this.#find(keyVersion);
    const tag = this.#token.session.createSign("SHA256_HMAC", mac).once(macInput(purpose, data));
    return { keyVersion, tag: tag.toString("base64url") };
  }

  async verifyMac(purpose: KeyPurpose, data: Uint8Array, tag: string, keyVersion: number): Promise<boolean> {
    this.#assertHoldsCurrent();
    const { mac } = this.#find(keyVersion);
    const given = decodeCanonical(tag, "base64url");
    if (given === null || given.length !== 32) return false;
    // C_Verify compares inside the token.
    return this.#token.session.createVerify("SHA256_HMAC", mac).once(macInput(purpose, data), given);
  }

  async signAuditHead(signingInput: Uint8Array): Promise<Uint8Array> {
    const { privateKey } = await this.#auditKey();
    return signInToken(this.#token.session, privateKey, signingInput);
  }

  async auditPublicKey(): Promise<AuditPublicKey> {
    return (await this.#auditKey()).publicKey;
  }

  initialize(): Promise<number> {
    this.#assertOpen();
    return this.#shared!.advance(async (tx, recorded) => {
      if (recorded !== null || this.#tokenVersions().length > 0) {
        throw new KeyProviderError(
          "vault_already_initialized",
          `the pkcs11 vault is already initialized (token "${this.#token.tokenLabel}" or the database holds key versions)`,
        );
      }
      await lockAuditKey(tx);
      const version = this.#generate(1);
      this.#audit = await ensureAuditKey(this.#token.session, this.#token.tokenLabel);
      return version;
    });
  }

  rotate(): Promise<number> {
    this.#assertOpen();
    return this.#shared!.advance(async (_tx, recorded) => {
      if (recorded === null && this.#tokenVersions().length === 0) throw notInitialized(this.#token.tokenLabel);
      // Above every version in the token, not only the recorded one: a rotation whose database commit failed
      // left keys behind that no process ever used; skipping past them is safer than deleting HSM keys.
      return this.#generate(Math.max(recorded ?? 0, ...this.#tokenVersions()) + 1);
    });
  }

  async status(): Promise<KeyProviderStatus> {
    const versions = this.#closed ? [] : this.#tokenVersions();
    const current = this.#closed ? null : this.#current();
    return {
      kind: "pkcs11",
      initialized: current !== null,
      sealed: this.isSealed(),
      currentKeyVersion: current,
      keyVersions: versions,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#shared?.close();
    this.#keys.clear();
    this.#audit = null;
    this.#token.close();
  }

  /** The recorded version, or (before any is recorded, say a database restored without it) the token's highest. */
  #current(): number | null {
    if (this.#closed) return null;
    return this.#shared?.get() ?? this.#tokenVersions().at(-1) ?? null;
  }

  /** The audit key pair, looked up once (`vault init` may have run in another process after this one opened). */
  async #auditKey(): Promise<TokenAuditKey> {
    this.#assertOpen();
    this.#audit ??= await findAuditKey(this.#token.session, this.#token.tokenLabel);
    if (!this.#audit) throw notInitialized(this.#token.tokenLabel);
    return this.#audit;
  }

  #generate(version: number): number {
    const session = this.#token.session;
    const common = {
      class: graphene.ObjectClass.SECRET_KEY,
      token: true,
      private: true,
      sensitive: true,
      extractable: false,
      modifiable: false,
      derive: false,
      id: Buffer.from(String(version)),
    };
    session.generateKey(graphene.KeyGenMechanism.AES, {
      ...common,
      keyType: graphene.KeyType.AES,
      valueLen: 32,
      label: kekLabel(version),
      encrypt: true,
      decrypt: true,
      wrap: false,
      unwrap: false,
      sign: false,
      verify: false,
    });
    session.generateKey(graphene.KeyGenMechanism.GENERIC_SECRET, {
      ...common,
      keyType: graphene.KeyType.GENERIC_SECRET,
      valueLen: 32,
      label: macLabel(version),
      sign: true,
      verify: true,
      encrypt: false,
      decrypt: false,
      wrap: false,
      unwrap: false,
    });
    this.#find(version);
    return version;
  }

  /** The version's key objects, looked up by label once and then cached (another process may have made them). */
  #find(version: number): VersionKeys {
    this.#assertOpen();
    const cached = this.#keys.get(version);
    if (cached) return cached;
    if (!isKeyVersion(version)) throw versionUnknown(version, this.#token.tokenLabel);
    const kek = this.#one(kekLabel(version));
    const mac = this.#one(macLabel(version));
    if (!kek || !mac) throw versionUnknown(version, this.#token.tokenLabel);
    const keys = { kek, mac };
    this.#keys.set(version, keys);
    return keys;
  }

  #one(label: string): graphene.SecretKey | null {
    const found = this.#token.session.find({ class: graphene.ObjectClass.SECRET_KEY, label });
    if (found.length > 1)
      throw new KeyProviderError(
        "provider_misconfigured",
        `token "${this.#token.tokenLabel}" holds ${found.length} keys labelled ${label}; remove the extra ones`,
      );
    return found.length === 1 ? found.items(0).toType<graphene.SecretKey>() : null;
  }

  #tokenVersions(): number[] {
    const found = this.#token.session.find({ class: graphene.ObjectClass.SECRET_KEY });
    const versions: number[] = [];
    for (let i = 0; i < found.length; i++) {
      const match = KEK_LABEL.exec(found.items(i).getAttribute("label") as string);
      const version = match ? parseKeyVersion(match[1] ?? "") : null;
      if (version !== null) versions.push(version);
    }
    return versions.sort((a, b) => a - b);
  }

  /** Whether the token holds both keys of `version` (looked up, then cached by #find). */
  #holds(version: number): boolean {
    if (this.#closed) return false;
    if (this.#keys.has(version)) return true;
    if (!isKeyVersion(version) || !this.#one(kekLabel(version)) || !this.#one(macLabel(version))) return false;
    this.#find(version);
    return true;
  }

  /** Before opening an old blob: a token without the current version is the wrong token, not a missing old key. */
  #assertHoldsCurrent(): void {
    this.#assertOpen();
    const current = this.#current();
    if (current !== null && !this.#holds(current)) throw wrongToken(current, this.#token.tokenLabel);
  }

  #assertOpen(): void {
    if (this.#closed) throw new KeyProviderError("vault_sealed", "the pkcs11 key provider is closed");
  }
}

function gcm(nonce: Buffer, purpose: KeyPurpose, aad: string): graphene.IAlgorithm {
  // The 2.40 parameter struct (with ulIvBits), which SoftHSM2 2.6 reads; the tag is the full 128 bits.
  return { name: "AES_GCM", params: new graphene.AesGcm240Params(nonce, aadBytes(purpose, aad), TAG_BYTES * 8) };
}

function macInput(purpose: KeyPurpose, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${purpose}|`, "utf8"), data]);
}

function notInitialized(tokenLabel: string): KeyProviderError {
  return new KeyProviderError(
    "vault_not_initialized",
    `token "${tokenLabel}" holds no MPay key yet; run \`mpay vault init\``,
  );
}

function wrongToken(version: number, tokenLabel: string): KeyProviderError {
  return new KeyProviderError(
    "vault_sealed",
    `token "${tokenLabel}" does not hold key version ${String(version)}, which the database records: connect the HSM token that holds the vault's keys`,
  );
}

function versionUnknown(version: number, tokenLabel: string): KeyProviderError {
  return new KeyProviderError(
    "key_version_unknown",
    `token "${tokenLabel}" holds no key with version ${String(version)}`,
  );
}
