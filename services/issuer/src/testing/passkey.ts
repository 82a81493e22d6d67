/**
 * A software passkey for tests (the idea of services/pay/src/testing/software-authenticator.ts, cut to what the
 * issuer needs): one P-256 credential whose COSE public key is bound at enrollment, and WebAuthn assertions over a
 * challenge, signed as an authenticator signs them (authenticatorData ‖ SHA-256(clientDataJSON), DER ECDSA), with
 * the UV flag, origin and RP ID under the test's control.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;

export interface AssertionOptions {
  userVerified?: boolean;
  origin?: string;
  rpId?: string;
}

export class TestPasskey {
  readonly id: string;
  /** base64url COSE_Key (EC2, ES256, P-256): what the enrollment lists. */
  readonly publicKey: string;
  private readonly privateKey: KeyObject;
  private signCount = 0;

  constructor(
    readonly rpId: string,
    readonly origin: string,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.privateKey = privateKey;
    this.id = randomBytes(32).toString("base64url");
    const { x, y } = publicKey.export({ format: "jwk" });
    // COSE_Key map {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}, CBOR-encoded by hand.
    const cose = Buffer.concat([
      Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]),
      Buffer.from(x!, "base64url"),
      Buffer.from([0x22, 0x58, 0x20]),
      Buffer.from(y!, "base64url"),
    ]);
    this.publicKey = cose.toString("base64url");
  }

  /** An AuthenticationResponseJSON over `challenge` (base64url), as navigator.credentials.get() answers. */
  assert(challenge: string, options: AssertionOptions = {}): Record<string, unknown> {
    this.signCount += 1;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.signCount);
    const flags = FLAG_UP | (options.userVerified === false ? 0 : FLAG_UV);
    const authData = Buffer.concat([
      createHash("sha256")
        .update(options.rpId ?? this.rpId)
        .digest(),
      Buffer.from([flags]),
      counter,
    ]);
    const clientDataJSON = Buffer.from(
      JSON.stringify({ type: "webauthn.get", challenge, origin: options.origin ?? this.origin, crossOrigin: false }),
    );
    const signature = sign("sha256", Buffer.concat([authData, createHash("sha256").update(clientDataJSON).digest()]), {
      key: this.privateKey,
      dsaEncoding: "der",
    });
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      authenticatorAttachment: "platform",
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientDataJSON.toString("base64url"),
        authenticatorData: authData.toString("base64url"),
        signature: signature.toString("base64url"),
      },
    };
  }
}
