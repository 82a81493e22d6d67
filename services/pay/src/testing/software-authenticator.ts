/**
 * A software WebAuthn authenticator for Node tests: it does what a platform authenticator and the browser do
 * between them, byte for byte (W3C WebAuthn Level 3, §6.1 authenticator data, §6.5.1 attested credential data,
 * §8.7 "none" attestation), so the server is tested against real ceremonies, not mocks of the library.
 *
 * Each credential is its own P-256 key pair (ES256). Registration answers `attestationObject` = CBOR
 * `{ fmt: "none", attStmt: {}, authData }`; an assertion signs `authenticatorData || SHA-256(clientDataJSON)` with
 * ECDSA, DER-encoded as WebAuthn requires. Overrides (UV off, another counter, origin or RP ID) make the negative
 * tests real: the bytes are signed as a real authenticator would sign them, only the fact differs.
 *
 * The browser test with Chromium's virtual authenticator comes with the checkout work (issue 3).
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";

const COSE_ALG_ES256 = -7;
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

export interface CeremonyOverrides {
  /** The UV flag (default true: the user was verified, as the server requires). */
  userVerified?: boolean;
  /** The origin written into clientDataJSON (default: the authenticator's origin). */
  origin?: string;
  /** The RP ID whose hash goes into authenticatorData (default: the one in the options). */
  rpId?: string;
  /** The sign counter to report (default: one more than the last, starting from 0 at registration). */
  signCount?: number;
  /** For an assertion: which credential to use (default: the first allowed one this authenticator holds). */
  credentialId?: string;
}

interface Credential {
  id: Uint8Array;
  rpId: string;
  userHandle: string;
  privateKey: KeyObject;
  signCount: number;
}

export class SoftwareAuthenticator {
  private readonly credentials = new Map<string, Credential>();

  constructor(
    /** The web origin the "browser" runs on (clientDataJSON.origin). */
    readonly origin: string,
    private readonly aaguid: Uint8Array = new Uint8Array(16),
  ) {
    if (aaguid.length !== 16) throw new Error("an AAGUID is 16 bytes");
  }

  /** navigator.credentials.create() with the server's creation options; answers the RegistrationResponseJSON. */
  create(options: PublicKeyCredentialCreationOptionsJSON, overrides: CeremonyOverrides = {}): RegistrationResponseJSON {
    if (!options.pubKeyCredParams.some((p) => p.alg === COSE_ALG_ES256))
      throw new Error("NotSupportedError: only ES256 credentials are made here");
    const rpId = options.rp.id ?? new URL(this.origin).hostname;
    for (const excluded of options.excludeCredentials ?? []) {
      if (this.credentials.has(excluded.id))
        throw new Error("InvalidStateError: this authenticator already holds an excluded credential");
    }
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const id = new Uint8Array(randomBytes(32));
    const credential: Credential = {
      id,
      rpId,
      userHandle: options.user.id,
      privateKey,
      signCount: overrides.signCount ?? 0,
    };
    const jwk = publicKey.export({ format: "jwk" });
    if (!jwk.x || !jwk.y) throw new Error("P-256 public key without coordinates");
    const cosePublicKey = encodeCbor(
      new Map<number, CborValue>([
        [1, 2], // kty: EC2
        [3, COSE_ALG_ES256], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x, "base64url")],
        [-3, Buffer.from(jwk.y, "base64url")],
      ]),
    );
    const credentialIdLength = new Uint8Array([id.length >> 8, id.length & 0xff]);
    const attestedCredentialData = concat(this.aaguid, credentialIdLength, id, cosePublicKey);
    const authData = authenticatorData(
      overrides.rpId ?? rpId,
      flags(overrides) | FLAG_AT,
      credential.signCount,
      attestedCredentialData,
    );
    const clientDataJSON = clientData("webauthn.create", options.challenge, overrides.origin ?? this.origin);
    const attestationObject = encodeCbor(
      new Map<string, CborValue>([
        ["fmt", "none"],
        ["attStmt", new Map()],
        ["authData", authData],
      ]),
    );
    this.credentials.set(b64url(id), credential);
    return {
      id: b64url(id),
      rawId: b64url(id),
      type: "public-key",
      authenticatorAttachment: "platform",
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        authenticatorData: b64url(authData),
        transports: ["internal", "hybrid"],
        publicKeyAlgorithm: COSE_ALG_ES256,
        publicKey: b64url(publicKey.export({ format: "der", type: "spki" })),
      },
    };
  }

  /** navigator.credentials.get(): an assertion over `options.challenge` with one of this authenticator's credentials. */
  get(options: PublicKeyCredentialRequestOptionsJSON, overrides: CeremonyOverrides = {}): AuthenticationResponseJSON {
    const allowed = options.allowCredentials?.map((c) => c.id) ?? [...this.credentials.keys()];
    const chosenId = overrides.credentialId ?? allowed.find((id) => this.credentials.has(id));
    const credential = chosenId ? this.credentials.get(chosenId) : undefined;
    if (!chosenId || !credential) throw new Error("NotAllowedError: no matching credential on this authenticator");
    credential.signCount = overrides.signCount ?? credential.signCount + 1;
    const authData = authenticatorData(
      overrides.rpId ?? options.rpId ?? credential.rpId,
      flags(overrides),
      credential.signCount,
    );
    const clientDataJSON = clientData("webauthn.get", options.challenge, overrides.origin ?? this.origin);
    const signed = concat(authData, createHash("sha256").update(clientDataJSON).digest());
    // node:crypto's ECDSA signatures are DER (ASN.1 SEQUENCE of r, s) by default, which is what WebAuthn wants.
    const signature = sign("sha256", signed, { key: credential.privateKey, dsaEncoding: "der" });
    return {
      id: chosenId,
      rawId: chosenId,
      type: "public-key",
      authenticatorAttachment: "platform",
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: credential.userHandle,
      },
    };
  }

  /** The ids (base64url) of the credentials this authenticator holds. */
  credentialIds(): string[] {
    return [...this.credentials.keys()];
  }
}

function flags(overrides: CeremonyOverrides): number {
  return FLAG_UP | (overrides.userVerified === false ? 0 : FLAG_UV);
}

/** §6.1: rpIdHash (32) ‖ flags (1) ‖ signCount (4, big-endian) ‖ attested credential data (registration only). */
function authenticatorData(
  rpId: string,
  flagBits: number,
  signCount: number,
  attested: Uint8Array = new Uint8Array(),
): Uint8Array {
  const counter = new Uint8Array(4);
  new DataView(counter.buffer).setUint32(0, signCount);
  return concat(createHash("sha256").update(rpId).digest(), new Uint8Array([flagBits]), counter, attested);
}

/** The browser's CollectedClientData, serialized the way browsers do (these keys, in this order). */
function clientData(type: "webauthn.create" | "webauthn.get", challenge: string, origin: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
}

export type CborValue = number | string | Uint8Array | Map<number | string, CborValue>;

/**
 * The little CBOR (RFC 8949) WebAuthn needs here: integers, byte and text strings, and maps, with definite
 * lengths, written in the order given (CTAP2's canonical order is the caller's job: COSE keys 1, 3, -1, -2, -3).
 */
export function encodeCbor(value: CborValue): Uint8Array {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error("only integers are encoded");
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === "string") {
    const bytes = new TextEncoder().encode(value);
    return concat(head(3, bytes.length), bytes);
  }
  if (value instanceof Uint8Array) return concat(head(2, value.length), value);
  const parts: Uint8Array[] = [head(5, value.size)];
  for (const [key, item] of value) parts.push(encodeCbor(key), encodeCbor(item));
  return concat(...parts);
}

/** A major type and its argument: inline below 24, else in 1, 2 or 4 following bytes. */
function head(major: number, argument: number): Uint8Array {
  const type = major << 5;
  if (argument < 24) return new Uint8Array([type | argument]);
  if (argument < 0x100) return new Uint8Array([type | 24, argument]);
  if (argument < 0x10000) return new Uint8Array([type | 25, argument >> 8, argument & 0xff]);
  if (argument < 0x1_0000_0000) {
    const out = new Uint8Array(5);
    out[0] = type | 26;
    new DataView(out.buffer).setUint32(1, argument);
    return out;
  }
  throw new Error("CBOR arguments above 2^32 are not needed here");
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64url");
}
