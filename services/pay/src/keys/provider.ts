/**
 * The key provider holds the pay server's own keys (DESIGN.md "Key providers"). Everything the server must be
 * able to use but a database dump must not reveal goes through it: webhook signing secrets and the v1a private
 * key are stored only as blobs sealed here, and audit chain heads are signed here with a key whose public half is
 * published, so a stolen dump can neither sign a webhook nor forge an audit head, and anyone can check the heads.
 *
 * One interface, chosen by configuration (`MPAY_KEK_PROVIDER`): `dev` (a key file, embedded default), `pkcs11`
 * (an HSM; the keys never leave it) and `shamir` (a master key split among custodians; every process starts
 * sealed). Callers never see key bytes. docs/key-providers.md is the operator's guide.
 */

/** Why a key is used: each purpose gets its own derived key, so one use can never be replayed as another. */
export type KeyPurpose =
  | "webhook-secret"
  | "webhook-signing-key"
  | "audit-head"
  | "provider-secret"
  | "pin-login-state"
  | "vault-k-srv"
  | "recurring-token"
  | "payer-shared-details"
  | "merchant-user-totp"
  | "staff-totp";

export type KeyProviderKind = "dev" | "pkcs11" | "shamir";

export interface KeyProvider {
  readonly kind: KeyProviderKind;
  /** True while the provider cannot serve (a shamir provider waiting for its custodians' shares). */
  isSealed(): boolean;
  /** The key version new seals and MACs use; older versions stay readable until rotated away. */
  currentKeyVersion(): number;
  /**
   * Encrypts `plaintext` with AES-256-GCM under the purpose's key, binding `aad` (the row's identity, so a
   * sealed blob copied to another row fails to open). The blob is self-describing: it names its key version.
   */
  seal(purpose: KeyPurpose, plaintext: Uint8Array, aad: string): Promise<string>;
  /** Opens a blob made by `seal`; throws KeyProviderError("seal_invalid") if it or its aad was altered. */
  open(purpose: KeyPurpose, sealed: string, aad: string): Promise<Uint8Array>;
  /** HMAC-SHA256 under the purpose's key; the result names the key version used. */
  mac(purpose: KeyPurpose, data: Uint8Array): Promise<{ keyVersion: number; tag: string }>;
  /** Constant-time check of a tag made by `mac`. */
  verifyMac(purpose: KeyPurpose, data: Uint8Array, tag: string, keyVersion: number): Promise<boolean>;
  /**
   * Signs an audit chain head: ECDSA P-256 over SHA-256 of `signingInput` (the head's JWS signing input, made by
   * audit/signed-head.ts), answered as JOSE's raw r‖s (64 bytes), so the result is an ES256 JWS signature.
   * pkcs11 signs inside the token with a key pair made there; dev and shamir with a key derived from their first
   * key version. One key for the log's whole life, as a Certificate Transparency log has (a new key is a new log):
   * `rotate` does not change it.
   */
  signAuditHead(signingInput: Uint8Array): Promise<Uint8Array>;
  /** The public half of the audit head key, published so that anyone can check the heads without a secret. */
  auditPublicKey(): Promise<AuditPublicKey>;
  /**
   * Makes a new key version and records it as current in the shared database, so every process seals with it
   * within VERSION_CACHE_MS; older versions stay readable. Re-sealing old rows is reseal.ts's job, not this one.
   */
  rotate(): Promise<number>;
  /** What `mpay vault status` and `GET /v1/vault/status` show; never a key, a share or a PIN. */
  status(): Promise<KeyProviderStatus>;
  /** Present only on providers that custodians unseal (shamir). */
  readonly unsealer?: ShareUnsealer;
  close(): Promise<void>;
}

/** An EC P-256 public JWK with its RFC 7638 thumbprint as `kid`: what `/.well-known/mpay-audit-key` lists. */
export interface AuditPublicKey {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  kid: string;
  alg: "ES256";
  use: "sig";
}

export interface KeyProviderStatus {
  kind: KeyProviderKind;
  /** False until `mpay vault init` made the first key version (dev makes its key file by itself). */
  initialized: boolean;
  sealed: boolean;
  currentKeyVersion: number | null;
  keyVersions: number[];
  /**
   * shamir only: M of N, how many shares this process holds while it waits for the rest, the current share set's
   * generation (1 at init, one more per rekey) and whether a rekey's re-seal is unfinished.
   */
  custody?: { threshold: number; shares: number; sharesReceived: number; generation: number; rekeyPending: boolean };
}

export interface UnsealProgress {
  sealed: boolean;
  sharesReceived: number;
  threshold: number;
}

export interface ShareUnsealer {
  /**
   * Takes one custodian share. At the threshold the shares are combined and the result checked against the
   * stored check value: a wrong share discards all collected shares (KeyProviderError "vault_share_rejected").
   */
  submitShare(share: string): Promise<UnsealProgress>;
}

export type KeyProviderErrorCode =
  | "vault_sealed"
  | "vault_not_initialized"
  | "vault_already_initialized"
  | "vault_share_invalid"
  | "vault_share_rejected"
  | "vault_share_retired"
  | "vault_unseal_unsupported"
  | "vault_rekey_unsupported"
  | "vault_rekey_in_progress"
  | "seal_invalid"
  | "key_version_unknown"
  | "provider_misconfigured";

export class KeyProviderError extends Error {
  constructor(
    readonly code: KeyProviderErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "KeyProviderError";
  }
}
