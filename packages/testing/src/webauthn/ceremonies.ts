/**
 * The one WebAuthn builder of the tests and the bench (issue 11): what a platform authenticator and the browser
 * around it hand to the page, byte for byte as W3C WebAuthn Level 3 says and as `@simplewebauthn/browser` returns it.
 * The harnesses (services/pay/src/testing/software-authenticator.ts, services/issuer/src/testing/passkey.ts,
 * bench/webauthn-authenticator.ts) and the verifiers' tests all build their ceremonies here, so a fix to the bytes
 * is made once.
 *
 * - Authenticator data (§6.1): rpIdHash ‖ flags ‖ signCount (4 bytes, big-endian) ‖ attested credential data
 *   (registration: AAGUID ‖ credential id length ‖ id ‖ COSE_Key) ‖ extensions (when the test asks for them).
 * - clientDataJSON: `{ type, challenge, origin, crossOrigin: false }`, the keys in the order browsers write them.
 * - Assertion (§6.3.3): ECDSA P-256 over authenticatorData ‖ SHA-256(clientDataJSON), DER as WebAuthn wants it.
 * - Registration (§8.7): attestation object `{ fmt: "none", attStmt: {}, authData }`.
 *
 * Every part can be set by the test (flags, counter, origin, RP ID, client data, extensions, signer, signature
 * encoding), so a negative test is real: the bytes are signed as an authenticator signs them, only the fact differs.
 *
 * Keys come from `freshP256`, never `generateKeyPairSync` + JWK export, which deadlocks Node 20 now and then
 * (packages/crypto/src/fresh-key-pair.ts).
 */
import { createHash, createPublicKey, randomBytes, sign, type KeyObject } from "node:crypto";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { freshP256 } from "@mpay/crypto/fresh-key-pair";

/** Authenticator data flags (WebAuthn §6.1). */
export const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40, ED: 0x80 } as const;
/** COSE algorithm ES256 (RFC 9053). */
export const COSE_ALG_ES256 = -7;

export type CborValue = number | string | Uint8Array | Map<number | string, CborValue> | { [key: string]: CborValue };

/**
 * The little CBOR (RFC 8949) WebAuthn needs: integers, byte and text strings, and maps (a Map or a plain object),
 * with definite lengths, written in the order given (CTAP2's canonical order is the caller's: COSE keys 1, 3, -1, -2, -3).
 */
export function cbor(value: CborValue): Buffer {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error("cbor: integers only");
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

/** A major type and its argument: inline below 24, else in 1, 2 or 4 following bytes. */
function head(major: number, argument: number): Buffer {
  const type = major << 5;
  if (argument < 24) return Buffer.from([type | argument]);
  if (argument < 0x100) return Buffer.from([type | 24, argument]);
  if (argument < 0x10000) return Buffer.from([type | 25, argument >> 8, argument & 0xff]);
  if (argument < 0x1_0000_0000) {
    const out = Buffer.alloc(5);
    out[0] = type | 26;
    out.writeUInt32BE(argument, 1);
    return out;
  }
  throw new Error("cbor: arguments above 2^32 are not needed here");
}

const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest();
const b64u = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");

/** The COSE_Key of a P-256 public key as [label, value] pairs: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y. */
export function coseEs256Entries(publicJwk: { x: string; y: string }): Array<[number, CborValue]> {
  return [
    [1, 2],
    [3, COSE_ALG_ES256],
    [-1, 1],
    [-2, Buffer.from(publicJwk.x, "base64url")],
    [-3, Buffer.from(publicJwk.y, "base64url")],
  ];
}

/** §6.1: rpIdHash ‖ flags ‖ signCount ‖ attested credential data ‖ extensions (the last two as given). */
export function authenticatorData(parts: {
  rpId: string;
  flags: number;
  signCount: number;
  attested?: Uint8Array;
  extensions?: Uint8Array;
}): Buffer {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(parts.signCount);
  return Buffer.concat([
    sha256(parts.rpId),
    Buffer.from([parts.flags]),
    counter,
    parts.attested ?? Buffer.alloc(0),
    parts.extensions ?? Buffer.alloc(0),
  ]);
}

/** The browser's CollectedClientData, serialized as browsers do (these keys, in this order). */
export function clientDataJSON(type: "webauthn.create" | "webauthn.get", challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), "utf8");
}

/** What an assertion is made of; all but the credential, RP ID, challenge and origin have an honest default. */
export interface AssertionParts {
  /** base64url credential id (id and rawId). */
  credentialId: string;
  privateKey: KeyObject;
  rpId: string;
  challenge: string;
  origin: string;
  signCount: number;
  /** Default UP | UV. */
  flags?: number;
  /** CBOR bytes after the counter (set FLAG.ED in `flags` to announce them). */
  extensions?: Uint8Array;
  /** Client data instead of the browser's for `challenge` and `origin`: an object to serialize, or raw bytes. */
  clientData?: Record<string, unknown> | Uint8Array;
  /** base64url user handle, as a discoverable credential answers it. */
  userHandle?: string;
  /** Default "der" (WebAuthn); "ieee-p1363" is JOSE's raw r‖s, which a verifier must refuse. */
  dsaEncoding?: "der" | "ieee-p1363";
}

/** An AuthenticationResponseJSON, as navigator.credentials.get() and `startAuthentication()` answer it. */
export function assertionResponse(parts: AssertionParts): AuthenticationResponseJSON {
  const authData = authenticatorData({
    rpId: parts.rpId,
    flags: parts.flags ?? FLAG.UP | FLAG.UV,
    signCount: parts.signCount,
    extensions: parts.extensions,
  });
  const clientData =
    parts.clientData instanceof Uint8Array
      ? parts.clientData
      : parts.clientData
        ? Buffer.from(JSON.stringify(parts.clientData), "utf8")
        : clientDataJSON("webauthn.get", parts.challenge, parts.origin);
  const signature = sign("sha256", Buffer.concat([authData, sha256(clientData)]), {
    key: parts.privateKey,
    dsaEncoding: parts.dsaEncoding ?? "der",
  });
  return {
    id: parts.credentialId,
    rawId: parts.credentialId,
    type: "public-key",
    authenticatorAttachment: "platform",
    clientExtensionResults: {},
    response: {
      clientDataJSON: b64u(clientData),
      authenticatorData: b64u(authData),
      signature: b64u(signature),
      ...(parts.userHandle === undefined ? {} : { userHandle: parts.userHandle }),
    },
  };
}

/** What a registration's answer depends on besides the credential. */
export interface RegistrationParts {
  rpId: string;
  challenge: string;
  origin: string;
  /** Default UP | UV; AT is always set (the credential is attested). */
  flags?: number;
  /** Default 16 zero bytes: "none" attestation names no model. */
  aaguid?: Uint8Array;
  /** Default ["internal"]. */
  transports?: RegistrationResponseJSON["response"]["transports"];
}

/**
 * One ES256 passkey: a fresh P-256 key, a random credential id and a counter. `register` answers the creation
 * ceremony; `assert` signs an assertion, the counter moving one forward unless the test says what it reports.
 */
export class SoftPasskey {
  /** The credential id, base64url (id and rawId). */
  readonly id: string;
  readonly rawId: Buffer;
  /** The COSE_Key of the public key, base64url: what registration stores and an issuer binds. */
  readonly cosePublicKey: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: { kty: "EC"; crv: "P-256"; x: string; y: string };

  constructor(
    /** The counter last reported (registration reports it; the first assertion reports one more). */
    public signCount = 0,
    idBytes = 32,
  ) {
    const { privateKey, publicJwk } = freshP256();
    this.privateKey = privateKey;
    this.publicJwk = publicJwk;
    this.rawId = randomBytes(idBytes);
    this.id = b64u(this.rawId);
    this.cosePublicKey = b64u(cbor(new Map(coseEs256Entries(publicJwk))));
  }

  /** navigator.credentials.create()'s answer for this credential, with "none" attestation. */
  register(parts: RegistrationParts): RegistrationResponseJSON {
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.rawId.length);
    const cose = Buffer.from(this.cosePublicKey, "base64url");
    const aaguid = parts.aaguid ?? new Uint8Array(16);
    if (aaguid.length !== 16) throw new Error("an AAGUID is 16 bytes");
    const authData = authenticatorData({
      rpId: parts.rpId,
      flags: (parts.flags ?? FLAG.UP | FLAG.UV) | FLAG.AT,
      signCount: this.signCount,
      attested: Buffer.concat([aaguid, idLength, this.rawId, cose]),
    });
    const clientData = clientDataJSON("webauthn.create", parts.challenge, parts.origin);
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      authenticatorAttachment: "platform",
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64u(clientData),
        attestationObject: b64u(cbor({ fmt: "none", attStmt: {}, authData })),
        authenticatorData: b64u(authData),
        transports: parts.transports ?? ["internal"],
        publicKeyAlgorithm: COSE_ALG_ES256,
        publicKey: b64u(createPublicKey(this.privateKey).export({ format: "der", type: "spki" })),
      },
    };
  }

  /** An assertion by this credential; `signCount` (default: one more than the last) becomes the last. */
  assert(parts: Omit<AssertionParts, "credentialId" | "privateKey" | "signCount"> & { signCount?: number }) {
    this.signCount = parts.signCount ?? this.signCount + 1;
    return assertionResponse({
      ...parts,
      credentialId: this.id,
      privateKey: this.privateKey,
      signCount: this.signCount,
    });
  }
}
