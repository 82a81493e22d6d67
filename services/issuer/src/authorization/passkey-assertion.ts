/**
 * The check of a passkey approval's WebAuthn assertion against the passkey bound to the card (authentication.ts
 * reads the binding and decides). An ES256 passkey, what every wallet's platform authenticator makes, is verified
 * with node:crypto and its key parsed once per key (@mpay/service-kit's webauthn-assertion.ts: the same checks as
 * @simplewebauthn/server, at a fifth of the CPU, issue 11); any other goes to @simplewebauthn/server, as before.
 */
import { verifyAuthenticationResponse, type AuthenticationResponseJSON } from "@simplewebauthn/server";
import { verifyEs256Assertion } from "@mpay/service-kit";

export interface BoundPasskey {
  credentialId: string;
  /** COSE public key, base64url, as bound at enrollment. */
  publicKey: string;
  /** The stored sign counter: a presented one must move past it (unless both are 0). */
  signCount: number;
}

/**
 * The assertion verified over `challenge` for the relying party, user verified, by `passkey`, with its counter
 * moving forward: the new counter, or null. Never throws.
 */
export async function verifyPasskeyAssertion(
  response: AuthenticationResponseJSON,
  passkey: BoundPasskey,
  relyingParty: { rpId: string; origins: string[] },
  challenge: string,
): Promise<{ newCounter: number } | null> {
  const fast = verifyEs256Assertion(response, passkey.publicKey, {
    challenge,
    origins: relyingParty.origins,
    rpId: relyingParty.rpId,
    storedCounter: passkey.signCount,
  });
  if (fast) return fast.verified ? { newCounter: fast.newCounter } : null;
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: relyingParty.origins,
      expectedRPID: relyingParty.rpId,
      requireUserVerification: true,
      credential: {
        id: passkey.credentialId,
        publicKey: new Uint8Array(Buffer.from(passkey.publicKey, "base64url")),
        counter: passkey.signCount,
      },
    });
    return result.verified ? { newCounter: result.authenticationInfo.newCounter } : null;
  } catch {
    // The library's message may quote what was sent; the caller names the rule instead.
    return null;
  }
}
