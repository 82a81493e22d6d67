/**
 * The authentication result that comes with a device payment (DESIGN.md "Split custody", point 3, the role of
 * 3-D Secure's authentication value). Missing, forged, or for other terms → `authentication_failed`.
 *
 * - `pin`: the pay server's statement (JWS `typ` pinStatement, ES256) that OPAQUE succeeded for this challenge,
 *   verified against the keys the pay server publishes (ISSUER_PAY_JWKS_URL, fetched and cached by jose). It must
 *   name this issuer, this payment, the hash of exactly these terms and the device that signed them, and be
 *   within its time window.
 * - `passkey`: a WebAuthn assertion whose challenge is the terms' hash, with user verification (UV) done, by a
 *   passkey bound to this card at enrollment (through a device binding that is still live), for the wallet's
 *   relying party, with a sign counter that moves forward.
 *
 * If the pay server's keys cannot be fetched the issuer cannot decide: it answers 503 `temporarily_unavailable`
 * and records nothing, so the pay server inquires or retries instead of taking a decline that was never decided.
 */
import { verifyAuthenticationResponse } from "@simplewebauthn/server";
import { errors, type JWSHeaderParameters } from "jose";
import { z } from "zod";
import { joseHeader, verifyWith } from "@mpay/crypto";
import { JOSE_TYPES, pinStatementSchema, type AuthenticationResult } from "@mpay/protocol";
import { IssuerApiError } from "../http/errors.ts";
import type { IssuerCore } from "../issuer-core.ts";
import { activePasskey } from "../devices/store.ts";

/** Finds the pay server's public key for a JWS header (jose's createRemoteJWKSet or createLocalJWKSet). */
export type PayKeySet = (header: JWSHeaderParameters) => Promise<CryptoKey>;

export interface AuthenticationPolicy {
  passkeys: { rpId: string; origins: string[] };
  /** When set, a PIN statement's `iss` must be this. */
  pinStatementIssuer: string | undefined;
}

export interface PaymentContext {
  paymentId: string;
  cardRef: string;
  deviceKid: string;
  termsHash: string;
}

export type AuthenticationCheck =
  | { ok: true; method: "pin" | "passkey"; passkeyCounter?: { credentialId: string; signCount: number } }
  | { ok: false; reason: string };

/** At most this long between a PIN statement's `iat` and `exp`. */
const MAX_STATEMENT_LIFETIME_SECONDS = 300;
const CLOCK_SKEW_SECONDS = 30;

const base64url = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_-]+$/);

/** AuthenticationResponseJSON as @simplewebauthn/browser makes it; unknown members are dropped, never passed on. */
const assertionSchema = z.object({
  id: base64url(1364),
  rawId: base64url(1364),
  type: z.literal("public-key"),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()),
  response: z.object({
    clientDataJSON: base64url(4096),
    authenticatorData: base64url(4096),
    signature: base64url(1024),
    userHandle: base64url(128).nullish().transform((v) => v ?? undefined),
  }),
});

export class PaymentAuthenticator {
  constructor(
    private readonly issuer: IssuerCore,
    private readonly policy: AuthenticationPolicy,
    private readonly payKeys: PayKeySet,
  ) {}

  async check(result: AuthenticationResult, payment: PaymentContext): Promise<AuthenticationCheck> {
    return result.method === "pin" ? this.pin(result.statement, payment) : this.passkey(result.assertion, payment);
  }

  private async pin(statement: string, payment: PaymentContext): Promise<AuthenticationCheck> {
    let header: Record<string, unknown>;
    try {
      header = joseHeader(statement);
    } catch {
      return { ok: false, reason: "the PIN statement is not a JWS" };
    }
    if (header["alg"] !== "ES256" || header["typ"] !== JOSE_TYPES.pinStatement || typeof header["kid"] !== "string") {
      return { ok: false, reason: "the PIN statement's header is not the pay server's" };
    }
    let key: CryptoKey;
    try {
      key = await this.payKeys({ alg: "ES256", kid: header["kid"] });
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
        return { ok: false, reason: "the PIN statement is signed by a key the pay server does not publish" };
      }
      this.issuer.log.warn({ err: error instanceof Error ? error.name : typeof error }, "the pay server's keys cannot be fetched");
      throw new IssuerApiError("temporarily_unavailable", "The issuer cannot verify the PIN statement now; inquire, then retry.");
    }
    let claims: unknown;
    try {
      const { payload } = await verifyWith(statement, key, JOSE_TYPES.pinStatement);
      claims = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      return { ok: false, reason: "the PIN statement's signature does not verify" };
    }
    const parsed = pinStatementSchema.safeParse(claims);
    if (!parsed.success) return { ok: false, reason: "the PIN statement is malformed" };
    const s = parsed.data;
    const now = Math.floor(this.issuer.now().getTime() / 1000);
    if (this.policy.pinStatementIssuer !== undefined && s.iss !== this.policy.pinStatementIssuer) return { ok: false, reason: "the PIN statement's issuer is not the pay server" };
    if (s.aud !== this.issuer.id) return { ok: false, reason: "the PIN statement is for another issuer" };
    if (s.paymentId !== payment.paymentId) return { ok: false, reason: "the PIN statement is for another payment" };
    if (s.termsHash !== payment.termsHash) return { ok: false, reason: "the PIN statement is for other terms" };
    if (s.deviceKid !== payment.deviceKid) return { ok: false, reason: "the PIN statement is for another device" };
    if (s.iat > now + CLOCK_SKEW_SECONDS || s.exp <= now || s.exp - s.iat > MAX_STATEMENT_LIFETIME_SECONDS) {
      return { ok: false, reason: "the PIN statement is outside its time window" };
    }
    return { ok: true, method: "pin" };
  }

  private async passkey(assertion: unknown, payment: PaymentContext): Promise<AuthenticationCheck> {
    const parsed = assertionSchema.safeParse(assertion);
    if (!parsed.success) return { ok: false, reason: "the passkey assertion is malformed" };
    const response = parsed.data;
    const passkey = await activePasskey(this.issuer.db, payment.cardRef, response.id);
    if (!passkey) return { ok: false, reason: "the passkey is not bound to this card" };
    try {
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: payment.termsHash,
        expectedOrigin: this.policy.passkeys.origins,
        expectedRPID: this.policy.passkeys.rpId,
        requireUserVerification: true,
        credential: { id: passkey.credentialId, publicKey: new Uint8Array(Buffer.from(passkey.publicKey, "base64url")), counter: passkey.signCount },
      });
      if (!result.verified) return { ok: false, reason: "the passkey assertion does not verify" };
      return { ok: true, method: "passkey", passkeyCounter: { credentialId: passkey.credentialId, signCount: result.authenticationInfo.newCounter } };
    } catch {
      // The library's message may quote what was sent; the reason names the rule instead.
      return { ok: false, reason: "the passkey assertion does not verify for these terms with user verification" };
    }
  }
}
