/**
 * A software WebAuthn authenticator for Node tests: it does what a platform authenticator and the browser do
 * between them, with the ceremonies' bytes built by the one builder of the tests (@mpay/testing/webauthn: W3C
 * WebAuthn Level 3, §6.1 authenticator data, §6.5.1 attested credential data, §8.7 "none" attestation), so the
 * server is tested against real ceremonies, not mocks of the library.
 *
 * It holds several credentials, each its own P-256 key pair (ES256), and answers the server's creation and request
 * options as navigator.credentials does. Overrides (UV off, another counter, origin or RP ID) make the negative
 * tests real: the bytes are signed as a real authenticator would sign them, only the fact differs.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { COSE_ALG_ES256, FLAG, SoftPasskey } from "@mpay/testing/webauthn";

export { cbor as encodeCbor, type CborValue } from "@mpay/testing/webauthn";

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
  passkey: SoftPasskey;
  rpId: string;
  userHandle: string;
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
    const passkey = new SoftPasskey(overrides.signCount ?? 0);
    const response = passkey.register({
      rpId: overrides.rpId ?? rpId,
      challenge: options.challenge,
      origin: overrides.origin ?? this.origin,
      flags: flags(overrides),
      aaguid: this.aaguid,
      transports: ["internal", "hybrid"],
    });
    this.credentials.set(passkey.id, { passkey, rpId, userHandle: options.user.id });
    return response;
  }

  /** navigator.credentials.get(): an assertion over `options.challenge` with one of this authenticator's credentials. */
  get(options: PublicKeyCredentialRequestOptionsJSON, overrides: CeremonyOverrides = {}): AuthenticationResponseJSON {
    const allowed = options.allowCredentials?.map((c) => c.id) ?? [...this.credentials.keys()];
    const chosenId = overrides.credentialId ?? allowed.find((id) => this.credentials.has(id));
    const credential = chosenId ? this.credentials.get(chosenId) : undefined;
    if (!chosenId || !credential) throw new Error("NotAllowedError: no matching credential on this authenticator");
    return credential.passkey.assert({
      rpId: overrides.rpId ?? options.rpId ?? credential.rpId,
      challenge: options.challenge,
      origin: overrides.origin ?? this.origin,
      flags: flags(overrides),
      signCount: overrides.signCount,
      userHandle: credential.userHandle,
    });
  }

  /** The ids (base64url) of the credentials this authenticator holds. */
  credentialIds(): string[] {
    return [...this.credentials.keys()];
  }
}

function flags(overrides: CeremonyOverrides): number {
  return FLAG.UP | (overrides.userVerified === false ? 0 : FLAG.UV);
}
