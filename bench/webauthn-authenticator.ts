/**
 * A passkey authenticator simulated with node:crypto, for the `pay` benchmark's passkey path (issue 11): what a
 * platform authenticator and the browser around it hand to the page, byte for byte as WebAuthn Level 3 says and as
 * `@simplewebauthn/browser`'s `startRegistration()` / `startAuthentication()` return it (the JSON the wallet sends).
 *
 * - One ES256 (P-256) credential per authenticator, a random 16-byte credential id, the payer id as user handle.
 * - Registration: clientDataJSON `{ type: "webauthn.create", challenge, origin, crossOrigin: false }`, and an
 *   attestation object `{ fmt: "none", attStmt: {}, authData }` (the server asks for no attestation) whose
 *   authenticator data carries the credential: rpIdHash ‖ flags (UP, UV, AT) ‖ signCount ‖ AAGUID (zeros) ‖
 *   credential id length and id ‖ the COSE_Key (kty EC2, alg ES256, crv P-256, x, y).
 * - Assertion: clientDataJSON `{ type: "webauthn.get", challenge, origin, crossOrigin: false }`, authenticator data
 *   rpIdHash ‖ flags (UP, UV) ‖ signCount (moved forward each time), and the ECDSA signature (DER, as WebAuthn
 *   wants it, not JOSE's raw r‖s) over authenticatorData ‖ SHA-256(clientDataJSON).
 *
 * Chromium's virtual authenticator (e2e/support/browser.ts) makes the same structures; this one costs a P-256
 * signature and two hashes per assertion, so that the simulated phones take little of the servers' cores.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

/** CBOR (RFC 8949) for the few types a COSE key and an attestation object hold: ints, byte and text strings, maps. */
export function cbor(value: CborValue): Buffer {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error("cbor: integers only");
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

export type CborValue = number | string | Uint8Array | Map<number | string, CborValue> | { [key: string]: CborValue };

/** A CBOR item head: major type and argument (up to 32 bits, all this needs). */
function head(major: number, argument: number): Buffer {
  if (argument < 24) return Buffer.from([(major << 5) | argument]);
  if (argument < 0x100) return Buffer.from([(major << 5) | 24, argument]);
  if (argument < 0x10000) return Buffer.from([(major << 5) | 25, argument >> 8, argument & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(argument, 1);
  return b;
}

/** Authenticator data flags (WebAuthn §6.1). */
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest();
/** base64url of bytes, without copying a Buffer first (`Buffer.from(buffer)` copies it). */
const b64u = (data: Uint8Array) =>
  (Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)).toString("base64url");

/** The registration as `startRegistration()` answers it (RegistrationResponseJSON). */
export interface RegistrationJson {
  id: string;
  rawId: string;
  type: "public-key";
  authenticatorAttachment: "platform";
  clientExtensionResults: Record<string, never>;
  response: {
    clientDataJSON: string;
    attestationObject: string;
    authenticatorData: string;
    transports: string[];
    publicKeyAlgorithm: number;
    publicKey: string;
  };
}

/** An assertion as `startAuthentication()` answers it (AuthenticationResponseJSON). */
export interface AssertionJson {
  id: string;
  rawId: string;
  type: "public-key";
  authenticatorAttachment: "platform";
  clientExtensionResults: Record<string, never>;
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle: string };
}

export class SoftAuthenticator {
  readonly credentialId: Buffer;
  /** The credential's public key as COSE_Key bytes (what the server stores and the issuer binds), base64url. */
  readonly cosePublicKey: string;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly rpIdHash: Buffer;
  private signCount = 0;

  /** `origin`: the page's origin the browser writes into clientDataJSON (on the relying party `rpId`). */
  constructor(
    readonly rpId: string,
    readonly origin: string,
    /** The user handle the credential was made for (the pay server's payer id, UTF-8). */
    private readonly userHandle: string,
  ) {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.credentialId = randomBytes(16);
    this.rpIdHash = sha256(rpId);
    this.cosePublicKey = b64u(this.coseKey());
  }

  /** The COSE_Key of the credential (RFC 9053): kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y. */
  private coseKey(): Buffer {
    const jwk = this.publicKey.export({ format: "jwk" });
    return cbor(
      new Map<number, CborValue>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x as string, "base64url")],
        [-3, Buffer.from(jwk.y as string, "base64url")],
      ]),
    );
  }

  private clientData(type: "webauthn.create" | "webauthn.get", challenge: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }), "utf8");
  }

  private counter(): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(this.signCount);
    return b;
  }

  /**
   * `navigator.credentials.create()` for creation options whose relying party is this one: checks what an
   * authenticator checks (the rp id, ES256 offered, user verification possible) and answers the new credential.
   */
  register(options: {
    challenge: string;
    rp: { id?: string };
    user: { id: string };
    pubKeyCredParams: Array<{ alg: number }>;
  }): RegistrationJson {
    if ((options.rp.id ?? this.rpId) !== this.rpId) throw new Error(`the options are for rp ${options.rp.id}`);
    if (!options.pubKeyCredParams.some((p) => p.alg === -7)) throw new Error("the options do not offer ES256");
    if (Buffer.from(options.user.id, "base64url").toString("utf8") !== this.userHandle)
      throw new Error("the options are for another user");
    const clientDataJSON = this.clientData("webauthn.create", options.challenge);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      this.rpIdHash,
      Buffer.from([FLAG_UP | FLAG_UV | FLAG_AT]),
      this.counter(),
      Buffer.alloc(16), // AAGUID: none, as "none" attestation allows
      idLength,
      this.credentialId,
      Buffer.from(this.cosePublicKey, "base64url"),
    ]);
    const attestationObject = cbor({ fmt: "none", attStmt: {}, authData });
    const id = b64u(this.credentialId);
    return {
      id,
      rawId: id,
      type: "public-key",
      authenticatorAttachment: "platform",
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64u(clientDataJSON),
        attestationObject: b64u(attestationObject),
        authenticatorData: b64u(authData),
        transports: ["internal"],
        publicKeyAlgorithm: -7,
        publicKey: b64u(this.publicKey.export({ format: "der", type: "spki" })),
      },
    };
  }

  /** `navigator.credentials.get()` with user verification, over `challenge` (base64url, as the server gave it). */
  assert(challenge: string): AssertionJson {
    this.signCount++;
    const clientDataJSON = this.clientData("webauthn.get", challenge);
    const authData = Buffer.concat([this.rpIdHash, Buffer.from([FLAG_UP | FLAG_UV]), this.counter()]);
    // ECDSA over authData ‖ SHA-256(clientDataJSON), DER-encoded (WebAuthn §6.3.3, §5.8.5).
    const signature = sign("sha256", Buffer.concat([authData, sha256(clientDataJSON)]), this.privateKey);
    const id = b64u(this.credentialId);
    return {
      id,
      rawId: id,
      type: "public-key",
      authenticatorAttachment: "platform",
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        userHandle: b64u(Buffer.from(this.userHandle, "utf8")),
      },
    };
  }
}
