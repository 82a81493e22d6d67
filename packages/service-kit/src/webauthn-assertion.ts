/**
 * A passkey assertion's verification with node:crypto, for the common case: an ES256 credential (COSE EC2, P-256)
 * and authenticator data without attested credential data or extensions (37 bytes), which is what platform
 * authenticators send when they approve a payment. It makes the checks `@simplewebauthn/server`'s
 * `verifyAuthenticationResponse` makes, in the same terms (webauthn-assertion.test.ts holds the two side by side on
 * valid and tampered assertions), and answers null for anything else: the caller then asks the library.
 *
 * Why (issue 11): the library cost about 500 µs of CPU per assertion against about 100 µs here, and the pay server
 * and the issuer host both verify every passkey approval. It decodes the COSE key and imports it through WebCrypto
 * (the point check alone is 100 µs) on every call, hashes the RP ID and clientDataJSON through WebCrypto's
 * asynchronous jobs, and converts the DER signature with an ASN.1 library. Here the credential's key is parsed once
 * per COSE key bytes (a pure function of them: no fact about who may approve is kept), and hashing and the ECDSA
 * check are node:crypto's synchronous calls.
 */
import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";

/** The parts of an AuthenticationResponseJSON (as `startAuthentication()` answers) the verification reads. */
export interface AssertionResponse {
  id: string;
  rawId: string;
  type: string;
  response: { clientDataJSON: string; authenticatorData: string; signature: string };
}

/** What the assertion must match; user presence and user verification are always required. */
export interface AssertionExpectation {
  /** The base64url challenge the server expects in clientDataJSON. */
  challenge: string;
  /** The page origins assertions are accepted from. */
  origins: readonly string[];
  rpId: string;
  /**
   * The credential's stored sign counter, as the library takes it: when it or the presented one is non-zero, the
   * presented one must be greater. 0 turns the rule off (a caller that moves the counter atomically itself).
   */
  storedCounter: number;
}

export type AssertionVerdict =
  | { verified: true; newCounter: number }
  /** `userVerified`: the UV flag of the authenticator data, null when it is unreadable. */
  | { verified: false; userVerified: boolean | null };

/** Authenticator data flags (WebAuthn §6.1). */
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;
const FLAG_ED = 0x80;
/** rpIdHash ‖ flags ‖ signCount: authenticator data with neither attested credential data nor extensions. */
const PLAIN_AUTH_DATA_LENGTH = 37;

const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** The tokenBinding statuses the library accepts (WebAuthn Level 2; browsers no longer send it). */
const TOKEN_BINDING_STATUSES = ["present", "supported", "notSupported"];

/** Keys parsed from COSE bytes; the few credentials of the payers who pay, bounded so a flood cannot grow it. */
const KEYS_KEPT = 10_000;
const keys = new Map<string, KeyObject | null>();
const rpIdHashes = new Map<string, Buffer>();

/**
 * Verifies `response` against `expected` and the credential's COSE public key (base64url, as stored), or answers
 * null when the key or the authenticator data is not the plain ES256 case this handles: ask the library then.
 * Never throws on what was sent.
 */
export function verifyEs256Assertion(
  response: AssertionResponse,
  credentialPublicKey: string,
  expected: AssertionExpectation,
): AssertionVerdict | null {
  const key = es256KeyOf(credentialPublicKey);
  const { clientDataJSON, authenticatorData, signature } = response.response;
  if (!key || !BASE64URL.test(authenticatorData)) return null;
  const authData = Buffer.from(authenticatorData, "base64url");
  if (authData.length > PLAIN_AUTH_DATA_LENGTH) return null;
  const rejected: AssertionVerdict = { verified: false, userVerified: userVerifiedIn(authData) };
  if (authData.length < PLAIN_AUTH_DATA_LENGTH) return rejected;
  const flags = authData[32] as number;
  // With 37 bytes, attested data or extensions announced are missing: the library fails to parse them.
  if (flags & (FLAG_AT | FLAG_ED)) return rejected;
  if (!response.id || response.id !== response.rawId || response.type !== "public-key") return rejected;
  if (!BASE64URL.test(clientDataJSON) || !BASE64URL.test(signature)) return rejected;
  const clientDataBytes = Buffer.from(clientDataJSON, "base64url");
  if (!clientDataMatches(clientDataBytes, expected)) return rejected;
  if (!authData.subarray(0, 32).equals(rpIdHashOf(expected.rpId))) return rejected;
  if (!(flags & FLAG_UP) || !(flags & FLAG_UV)) return rejected;
  // A credential that is not backup eligible cannot be backed up (the library's parseBackupFlags).
  if (!(flags & FLAG_BE) && flags & FLAG_BS) return rejected;
  const counter = authData.readUInt32BE(33);
  if ((counter > 0 || expected.storedCounter > 0) && counter <= expected.storedCounter) return rejected;
  const signed = Buffer.concat([authData, createHash("sha256").update(clientDataBytes).digest()]);
  let valid = false;
  try {
    // DER, as WebAuthn signs ES256 (§6.5.6); OpenSSL takes strict DER only, which every authenticator makes.
    valid = verify("sha256", signed, { key, dsaEncoding: "der" }, Buffer.from(signature, "base64url"));
  } catch {
    valid = false;
  }
  return valid ? { verified: true, newCounter: counter } : rejected;
}

/** The UV flag of authenticator data (bit 2 of the byte after the 32-byte RP ID hash), or null if unreadable. */
export function userVerifiedIn(authData: Uint8Array): boolean | null {
  const flags = authData.length >= PLAIN_AUTH_DATA_LENGTH ? authData[32] : undefined;
  return flags === undefined ? null : (flags & FLAG_UV) !== 0;
}

/** clientDataJSON checked as the library checks it: type, challenge, cross-origin use, origin, token binding. */
function clientDataMatches(bytes: Buffer, expected: AssertionExpectation): boolean {
  let data: unknown;
  try {
    data = JSON.parse(bytes.toString("utf8"));
  } catch {
    return false;
  }
  if (typeof data !== "object" || data === null) return false;
  const { type, challenge, origin, topOrigin, tokenBinding } = data as Record<string, unknown>;
  if (type !== "webauthn.get" || challenge !== expected.challenge) return false;
  // No top origin is expected: a cross-origin assertion that names one is refused, and a same-origin one may not
  // name any. A cross-origin one without topOrigin goes through, as the library lets it (Safari sends none).
  if (topOrigin) return false;
  if (typeof origin !== "string" || !expected.origins.includes(origin)) return false;
  if (tokenBinding) {
    if (typeof tokenBinding !== "object") return false;
    const status = (tokenBinding as { status?: unknown }).status;
    if (typeof status !== "string" || !TOKEN_BINDING_STATUSES.includes(status)) return false;
  }
  return true;
}

function rpIdHashOf(rpId: string): Buffer {
  let hash = rpIdHashes.get(rpId);
  if (!hash) {
    hash = createHash("sha256").update(rpId, "ascii").digest();
    rpIdHashes.set(rpId, hash);
  }
  return hash;
}

/** The P-256 key of an ES256 COSE_Key, parsed once per bytes; null for any other key (the library's case). */
function es256KeyOf(cose: string): KeyObject | null {
  const known = keys.get(cose);
  if (known !== undefined) return known;
  const key = parseEs256CoseKey(cose);
  if (keys.size >= KEYS_KEPT) keys.clear();
  keys.set(cose, key);
  return key;
}

function parseEs256CoseKey(cose: string): KeyObject | null {
  if (!BASE64URL.test(cose)) return null;
  const map = coseMap(Buffer.from(cose, "base64url"));
  // kty EC2 (1: 2), alg ES256 (3: -7), crv P-256 (-1: 1), x (-2) and y (-3) of 32 bytes each (RFC 9053 §7.1.1).
  if (!map || map.get(1) !== 2 || map.get(3) !== -7 || map.get(-1) !== 1) return null;
  const x = map.get(-2);
  const y = map.get(-3);
  if (!(x instanceof Uint8Array) || !(y instanceof Uint8Array) || x.length !== 32 || y.length !== 32) return null;
  try {
    // Checks that the point is on the curve, as WebCrypto's import does.
    return createPublicKey({
      key: {
        kty: "EC",
        crv: "P-256",
        x: Buffer.from(x).toString("base64url"),
        y: Buffer.from(y).toString("base64url"),
      },
      format: "jwk",
    });
  } catch {
    return null;
  }
}

/**
 * The first CBOR item of `bytes` as a map of integer labels to integers, byte and text strings: all a COSE EC2 key
 * holds. Null for anything else (the library decodes the general case). Bytes after the map are ignored, as the
 * library's decodeFirst ignores them.
 */
function coseMap(bytes: Buffer): Map<number, number | Uint8Array | string> | null {
  let at = 0;
  const item = (): { major: number; argument: number } | null => {
    const initial = bytes[at++];
    if (initial === undefined) return null;
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (info < 24) return { major, argument: info };
    const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0;
    if (size === 0 || at + size > bytes.length) return null;
    const argument = bytes.readUIntBE(at, size);
    at += size;
    return { major, argument };
  };
  const value = (): number | Uint8Array | string | null => {
    const head = item();
    if (!head) return null;
    if (head.major === 0) return head.argument;
    if (head.major === 1) return -1 - head.argument;
    if (head.major !== 2 && head.major !== 3) return null;
    if (at + head.argument > bytes.length) return null;
    const content = bytes.subarray(at, at + head.argument);
    at += head.argument;
    return head.major === 2 ? content : content.toString("utf8");
  };
  const head = item();
  if (!head || head.major !== 5) return null;
  const map = new Map<number, number | Uint8Array | string>();
  for (let i = 0; i < head.argument; i++) {
    const label = value();
    const entry = value();
    if (typeof label !== "number" || entry === null || map.has(label)) return null;
    map.set(label, entry);
  }
  return map;
}
