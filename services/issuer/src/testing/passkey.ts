/**
 * A software passkey for the issuer's tests: one P-256 credential whose COSE public key is bound at enrollment, and
 * WebAuthn assertions over a challenge, built by the tests' one WebAuthn builder (@mpay/testing/webauthn), with the
 * UV flag, origin and RP ID under the test's control.
 */
import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { FLAG, SoftPasskey } from "@mpay/testing/webauthn";

export interface AssertionOptions {
  userVerified?: boolean;
  origin?: string;
  rpId?: string;
}

export class TestPasskey {
  readonly id: string;
  /** base64url COSE_Key (EC2, ES256, P-256): what the enrollment lists. */
  readonly publicKey: string;
  private readonly passkey = new SoftPasskey();

  constructor(
    readonly rpId: string,
    readonly origin: string,
  ) {
    this.id = this.passkey.id;
    this.publicKey = this.passkey.cosePublicKey;
  }

  /**
   * An AuthenticationResponseJSON over `challenge` (base64url), as navigator.credentials.get() answers; typed as the
   * JSON the issuer's request carries, which its schema validates.
   */
  assert(challenge: string, options: AssertionOptions = {}): Record<string, unknown> {
    const response: AuthenticationResponseJSON = this.passkey.assert({
      rpId: options.rpId ?? this.rpId,
      origin: options.origin ?? this.origin,
      challenge,
      flags: FLAG.UP | (options.userVerified === false ? 0 : FLAG.UV),
    });
    return { ...response };
  }
}
