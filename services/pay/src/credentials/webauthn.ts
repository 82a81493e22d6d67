/**
 * The WebAuthn verify step every passkey of the pay server shares (the payers' passkeys that approve payments,
 * passkeys/; the dashboard users' passkey sign-in, merchant-users/): the same relying party check, user presence
 * and verification required, ES256/RS256 only, and the sign counter left to the caller's atomic UPDATE. Each
 * context keeps its own tables, challenges and answers; this module holds no table and imports no context.
 */
import {
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  type VerifiedRegistrationResponse,
} from "@simplewebauthn/server";
import { decodeAttestationObject } from "@simplewebauthn/server/helpers";

/** Which site passkeys belong to: the web app's origin(s) and their registrable domain. */
export interface RelyingParty {
  rpId: string;
  rpName: string;
  origins: string[];
}

/**
 * ES256 and RS256 only: the card issuer verifies payers' assertions too (DESIGN.md "Split custody" point 3), and
 * every WebAuthn authenticator and verifier supports them; EdDSA and ML-DSA would only widen what issuers must do.
 */
export const WEBAUTHN_ALGORITHMS = [-7, -257];

/** What a verification that failed can tell: whether the authenticator verified the user (null: unreadable). */
export interface WebAuthnRejected {
  verified: false;
  userVerified: boolean | null;
}

export type RegistrationInfo = NonNullable<VerifiedRegistrationResponse["registrationInfo"]>;

/** The `challenge` of a base64url clientDataJSON, or null when it is not one. */
export function challengeIn(clientDataJSON: string): string | null {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8")) as { challenge?: unknown };
    return typeof data.challenge === "string" && /^[A-Za-z0-9_-]{16,128}$/.test(data.challenge) ? data.challenge : null;
  } catch {
    return null;
  }
}

/**
 * Creation options for the browser's `startRegistration()`: no attestation, user verification required, ES256/RS256,
 * the user handle the opaque id (no name, phone or email goes into the authenticator's handle), and the credentials
 * to exclude (the caller's live ones: a revoked credential's authenticator may make a new one in its place).
 * `residentKey` "required" makes the passkey discoverable, for a sign-in without typing a name first.
 */
export function registrationOptions(
  rp: RelyingParty,
  user: { id: string; name: string; displayName: string },
  options: {
    timeoutMs: number;
    exclude: { id: string; transports: string[] }[];
    residentKey: "required" | "preferred";
  },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpId,
    userID: new TextEncoder().encode(user.id),
    userName: user.name,
    userDisplayName: user.displayName,
    timeout: options.timeoutMs,
    attestationType: "none",
    excludeCredentials: options.exclude.map((p) => ({ id: p.id, transports: p.transports })),
    authenticatorSelection: { residentKey: options.residentKey, userVerification: "required" },
    supportedAlgorithmIDs: WEBAUTHN_ALGORITHMS,
  });
}

/**
 * Verifies a new credential over `expectedChallenge` for this site, user present and verified. Never throws: the
 * library's own message quotes what the browser sent, so the caller answers with its own words instead.
 */
export async function verifyRegistration(
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  expectedChallenge: string,
): Promise<{ verified: true; info: RegistrationInfo } | WebAuthnRejected> {
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      requireUserPresence: true,
      requireUserVerification: true,
      supportedAlgorithmIDs: WEBAUTHN_ALGORITHMS,
    });
    if (result.verified) return { verified: true, info: result.registrationInfo };
  } catch {
    // Falls through to the rejection below.
  }
  return { verified: false, userVerified: registrationUserVerified(response.response.attestationObject) };
}

/**
 * Verifies an assertion by `passkey` over `expectedChallenge` for this site, user verified. The counter given to the
 * library is 0, which turns its own counter check off: the caller moves the stored counter forward atomically with
 * `newCounter` (0 stays allowed while the stored one is 0, WebAuthn §6.1.1). Never throws.
 */
export async function verifyAssertion(
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  expectedChallenge: string,
  passkey: { id: string; publicKey: string; transports: string[] },
): Promise<{ verified: true; newCounter: number } | WebAuthnRejected> {
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpId,
      requireUserVerification: true,
      credential: {
        id: passkey.id,
        publicKey: Buffer.from(passkey.publicKey, "base64url"),
        counter: 0,
        transports: passkey.transports,
      },
    });
    if (result.verified) return { verified: true, newCounter: result.authenticationInfo.newCounter };
  } catch {
    // Falls through to the rejection below.
  }
  return {
    verified: false,
    userVerified: userVerifiedIn(Buffer.from(response.response.authenticatorData, "base64url")),
  };
}

/** The UV flag (bit 2 of the flags byte after the 32-byte RP ID hash, WebAuthn §6.1), or null if unreadable. */
function userVerifiedIn(authData: Uint8Array): boolean | null {
  const flags = authData.length >= 37 ? authData[32] : undefined;
  return flags === undefined ? null : (flags & 0x04) !== 0;
}

function registrationUserVerified(attestationObject: string): boolean | null {
  try {
    const authData = decodeAttestationObject(Buffer.from(attestationObject, "base64url")).get("authData");
    return authData instanceof Uint8Array ? userVerifiedIn(authData) : null;
  } catch {
    return null;
  }
}
