/**
 * A passkey authenticator simulated with node:crypto, for the `pay` benchmark's passkey path (issue 11): what a
 * platform authenticator and the browser around it hand to the page, as `@simplewebauthn/browser`'s
 * `startRegistration()` / `startAuthentication()` return it (the JSON the wallet sends). The bytes are built by the
 * tests' one WebAuthn builder (@mpay/testing/webauthn); this adds what the bench's phone does around them.
 *
 * - One ES256 (P-256) credential per authenticator, a random 16-byte credential id, the payer id as user handle.
 * - Registration: "none" attestation (the server asks for no attestation), flags UP, UV, AT, AAGUID zeros.
 * - Assertion: flags UP, UV, the counter moved forward each time, DER ECDSA over authenticatorData ‖
 *   SHA-256(clientDataJSON).
 *
 * Chromium's virtual authenticator (e2e/support/browser.ts) makes the same structures; this one costs a P-256
 * signature and two hashes per assertion, so that the simulated phones take little of the servers' cores.
 */
import { SoftPasskey } from "@mpay/testing/webauthn";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";

export { cbor, type CborValue } from "@mpay/testing/webauthn";

/** The registration as `startRegistration()` answers it. */
export type RegistrationJson = RegistrationResponseJSON;
/** An assertion as `startAuthentication()` answers it (with the user handle a passkey gives). */
export type AssertionJson = AuthenticationResponseJSON & {
  response: AuthenticationResponseJSON["response"] & { userHandle: string };
};

export class SoftAuthenticator {
  readonly credentialId: Buffer;
  /** The credential's public key as COSE_Key bytes (what the server stores and the issuer binds), base64url. */
  readonly cosePublicKey: string;
  private readonly passkey = new SoftPasskey(0, 16);

  /** `origin`: the page's origin the browser writes into clientDataJSON (on the relying party `rpId`). */
  constructor(
    readonly rpId: string,
    readonly origin: string,
    /** The user handle the credential was made for (the pay server's payer id, UTF-8). */
    private readonly userHandle: string,
  ) {
    this.credentialId = this.passkey.rawId;
    this.cosePublicKey = this.passkey.cosePublicKey;
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
    return this.passkey.register({ rpId: this.rpId, challenge: options.challenge, origin: this.origin });
  }

  /** `navigator.credentials.get()` with user verification, over `challenge` (base64url, as the server gave it). */
  assert(challenge: string): AssertionJson {
    const userHandle = Buffer.from(this.userHandle, "utf8").toString("base64url");
    const response = this.passkey.assert({ rpId: this.rpId, origin: this.origin, challenge, userHandle });
    return { ...response, response: { ...response.response, userHandle } };
  }
}
