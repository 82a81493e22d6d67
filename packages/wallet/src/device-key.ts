/**
 * The device key (DESIGN.md, "Authentication without plugins" → Device; issue 3, deliverables 2 and 5): an ECDSA
 * P-256 key pair made on the device, its private key non-extractable wherever the key store allows it. The pay
 * server keeps the public key as JWK, named by its RFC 7638 thumbprint, which is the `kid` of everything the device
 * signs. Two kinds of signature, told apart by the JWS `typ` so that one can never be replayed as the other:
 * - `mpay-approval+jws`: a payment approval, whose payload is exactly the RFC 8785 canonical bytes of the terms
 *   (`termsBytes` from @mpay/protocol), the bytes the pay server and the card issuer check.
 * - `mpay-device+jws`: any other request a bound device vouches for (binding another device, cancelling a pending
 *   change), whose payload is the canonical JSON of the statement plus `iat`.
 */
import { approvalTermsSchema, termsBytes, termsTimeProblem, type ApprovalTerms } from "@mpay/protocol";
import canonicalize from "canonicalize";
import { CompactSign, calculateJwkThumbprint } from "jose";
import { WalletError } from "./errors.ts";
import { keyExtractabilityFor, type JsonValue, type KeyStore } from "./key-store.ts";

export const APPROVAL_JWS_TYPE = "mpay-approval+jws";
export const DEVICE_STATEMENT_JWS_TYPE = "mpay-device+jws";
/** The key store record that holds the device key pair. */
export const DEVICE_KEY_RECORD = "device-key";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;

/** The public device key as the pay server stores it: the four members RFC 7638 hashes, nothing else. */
export interface DevicePublicJwk {
  readonly kty: "EC";
  readonly crv: "P-256";
  readonly x: string;
  readonly y: string;
}

export interface DeviceKey {
  /** RFC 7638 SHA-256 thumbprint of `publicJwk` (base64url, 43 characters). */
  readonly kid: string;
  readonly publicJwk: DevicePublicJwk;
  /** Non-extractable, usage `sign`. */
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

/**
 * Makes the device key pair and keeps it in `store`. Refuses to replace an existing device key (that would orphan
 * the binding the server holds): delete the record on purpose first. Returns the pair as the store gives it back,
 * so the private key in hand is the non-extractable one even with the file store.
 */
export async function createDeviceKey(store: KeyStore, recordName: string = DEVICE_KEY_RECORD): Promise<DeviceKey> {
  if ((await store.get(recordName)) !== undefined) {
    throw new WalletError(
      "device_key_exists",
      "this device already has a device key; revoke and delete it before making another",
    );
  }
  const keyPair = await crypto.subtle.generateKey(ALGORITHM, keyExtractabilityFor(store), ["sign", "verify"]);
  await store.put(recordName, { type: "keyPair", keyPair });
  const stored = await loadDeviceKey(store, recordName);
  if (stored === undefined) throw new WalletError("device_key_invalid", "the device key was not kept by the key store");
  return stored;
}

/** The device key from `store`, or undefined when this device has none yet. */
export async function loadDeviceKey(
  store: KeyStore,
  recordName: string = DEVICE_KEY_RECORD,
): Promise<DeviceKey | undefined> {
  const record = await store.get(recordName);
  if (record === undefined) return undefined;
  if (record.type !== "keyPair")
    throw new WalletError("device_key_invalid", `the record "${recordName}" is not a key pair`);
  const { privateKey, publicKey } = record.keyPair;
  const algorithm = privateKey.algorithm as EcKeyAlgorithm;
  if (
    algorithm.name !== ALGORITHM.name ||
    algorithm.namedCurve !== ALGORITHM.namedCurve ||
    !privateKey.usages.includes("sign")
  ) {
    throw new WalletError("device_key_invalid", `the record "${recordName}" is not an ECDSA P-256 signing key`);
  }
  const publicJwk = await exportDevicePublicJwk(publicKey);
  return { kid: await deviceKeyId(publicJwk), publicJwk, privateKey, publicKey };
}

/** The public key as `{ kty, crv, x, y }` (no `key_ops`, `ext` or `alg`, which WebCrypto would add). */
export async function exportDevicePublicJwk(publicKey: CryptoKey): Promise<DevicePublicJwk> {
  if (publicKey.type !== "public")
    throw new WalletError("device_key_invalid", "only the public device key is exported");
  const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", publicKey);
  if (kty !== "EC" || crv !== "P-256" || typeof x !== "string" || typeof y !== "string") {
    throw new WalletError("device_key_invalid", "the device key is not an EC P-256 key");
  }
  return { kty, crv, x, y };
}

/** The device key id: the RFC 7638 JWK thumbprint (SHA-256, base64url). */
export function deviceKeyId(publicJwk: DevicePublicJwk): Promise<string> {
  return calculateJwkThumbprint({ kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y }, "sha256");
}

export interface SigningOptions {
  /** The clock, in seconds since the epoch; default now. */
  nowSeconds?: number;
}

/**
 * Signs a payment's terms: a compact JWS (ES256) whose payload is exactly `termsBytes(terms)`. Refuses terms that
 * do not match the protocol schema, or whose time window is wrong (expired, not yet valid, longer than 5 minutes):
 * the device never signs what the issuer would refuse, nor an approval that would outlive its challenge.
 */
export async function signTerms(
  privateKey: CryptoKey,
  kid: string,
  terms: ApprovalTerms,
  options: SigningOptions = {},
): Promise<string> {
  assertKid(kid);
  const parsed = approvalTermsSchema.safeParse(terms);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.map(String).join(".") || "(terms)"))].join(
      ", ",
    );
    throw new WalletError("terms_invalid", `the terms do not match the approval schema (${fields})`);
  }
  const problem = termsTimeProblem(parsed.data, options.nowSeconds ?? nowSeconds());
  if (problem !== null) throw new WalletError(problem, `the terms cannot be signed: ${problem.replaceAll("_", " ")}`);
  return new CompactSign(termsBytes(parsed.data))
    .setProtectedHeader({ alg: "ES256", kid, typ: APPROVAL_JWS_TYPE })
    .sign(privateKey);
}

/**
 * A device-signed request other than a payment approval. `purpose` names what the device vouches for (for example
 * `bind-device`, `set-pin` or `cancel-device`), so that a statement made for one purpose is never accepted for
 * another; the wallet adds `iat` itself.
 */
export type DeviceStatement = { readonly purpose: string; readonly iat?: never } & {
  readonly [field: string]: JsonValue;
};

const PURPOSE_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;

/** Signs `{ ...statement, iat }` as canonical JSON (RFC 8785) in a compact JWS (ES256, typ `mpay-device+jws`). */
export async function signStatement(
  privateKey: CryptoKey,
  kid: string,
  statement: DeviceStatement,
  options: SigningOptions = {},
): Promise<string> {
  assertKid(kid);
  if (typeof statement !== "object" || statement === null || Array.isArray(statement)) {
    throw new WalletError("statement_invalid", "a device statement is a JSON object");
  }
  if (typeof statement.purpose !== "string" || !PURPOSE_PATTERN.test(statement.purpose)) {
    throw new WalletError("statement_invalid", "a device statement names its purpose in lower-case kebab case");
  }
  if (Object.hasOwn(statement, "iat"))
    throw new WalletError("statement_invalid", "the wallet sets iat of a device statement itself");
  let payload: string | undefined;
  try {
    payload = canonicalize({ ...statement, iat: options.nowSeconds ?? nowSeconds() });
  } catch {
    payload = undefined;
  }
  if (payload === undefined)
    throw new WalletError(
      "statement_invalid",
      "the device statement is not canonical JSON (NaN, Infinity or a lone surrogate)",
    );
  return new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg: "ES256", kid, typ: DEVICE_STATEMENT_JWS_TYPE })
    .sign(privateKey);
}

const KID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function assertKid(kid: string): void {
  if (typeof kid !== "string" || !KID_PATTERN.test(kid)) {
    throw new TypeError("kid is the device key's RFC 7638 thumbprint (43 base64url characters)");
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
