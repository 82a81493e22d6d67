/**
 * The authentication result that comes with a device payment (DESIGN.md "Split custody", point 3, the role of
 * 3-D Secure's authentication value). Missing, forged, or for other terms → `authentication_failed`.
 *
 * - `pin`: the pay server's statement (JWS `typ` pinStatement, ES256) that OPAQUE succeeded for this challenge.
 *   Its key counts only through the card network's certificate that the statement carries in its header (`cert`):
 *   signed by a root this host trusts (ISSUER_NETWORK_ROOTS_FILE), for the acquirer on this link
 *   (ISSUER_ACQUIRER_ID), valid now, and of exactly the key named by the statement's `kid` (issue 7, hole 6).
 *   Nothing is fetched: a key served from a URL, or named in the header, counts for nothing. The statement must
 *   name this issuer, this payment, the hash of exactly these terms and the device that signed them, and be
 *   within its time window.
 * - `passkey`: a WebAuthn assertion whose challenge is the terms' hash, with user verification (UV) done, by a
 *   passkey bound to this card at enrollment (through a device binding that is still live), for the wallet's
 *   relying party, with a sign counter that moves forward.
 */
import { z } from "zod";
import type { KeyObject } from "node:crypto";
import { verifyStatementKeyCertificate, type NetworkRoot } from "@mpay/crypto";
import {
  JOSE_TYPES,
  pinStatementSchema,
  STATEMENT_KEY_CERTIFICATE_HEADER,
  type AuthenticationResult,
  type StatementKeyCertificate,
} from "@mpay/protocol";
import type { IssuerCore } from "../issuer-core.ts";
import { activePasskey } from "../devices/store.ts";
import { compactHeader, p256PublicKey, verifyCompact } from "@mpay/crypto/node";
import { verifyPasskeyAssertion } from "./passkey-assertion.ts";

export interface AuthenticationPolicy {
  /** Null: the web app is at an IP address, where browsers allow no passkey, so no passkey approval counts. */
  passkeys: { rpId: string; origins: string[] } | null;
  /** When set, a PIN statement's `iss` must be this. */
  pinStatementIssuer: string | undefined;
  /** The roots whose certificates of a pay-server key this host accepts. */
  networkRoots: readonly NetworkRoot[];
  /** The acquirer on this link: a certificate for another acquirer's key counts for nothing here. */
  acquirerId: string;
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
/** Certificates of statement keys kept verified (the pay server has one key at a time; a few across rotations). */
const CERTIFICATES_KEPT = 64;

/** A statement-key certificate a trusted root signed, with its key parsed: only its validity window moves. */
type VerifiedCertificate = StatementKeyCertificate & { key: KeyObject };

const base64url = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/);

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
    userHandle: base64url(128)
      .nullish()
      .transform((v) => v ?? undefined),
  }),
});

export class PaymentAuthenticator {
  /**
   * Certificates whose root signature and content verified, by their exact JWS (issue 11: the roots' and the
   * certified key's JWKs were imported on every payment). The roots are fixed for the host's life, so the same
   * bytes verify the same way; the window is checked on every use.
   */
  private readonly certificates = new Map<string, VerifiedCertificate>();

  constructor(
    private readonly issuer: IssuerCore,
    private readonly policy: AuthenticationPolicy,
  ) {}

  async check(result: AuthenticationResult, payment: PaymentContext): Promise<AuthenticationCheck> {
    return result.method === "pin" ? this.pin(result.statement, payment) : this.passkey(result.assertion, payment);
  }

  private async pin(statement: string, payment: PaymentContext): Promise<AuthenticationCheck> {
    let header: Record<string, unknown>;
    try {
      header = compactHeader(statement);
    } catch {
      return { ok: false, reason: "the PIN statement is not a JWS" };
    }
    if (header["alg"] !== "ES256" || header["typ"] !== JOSE_TYPES.pinStatement || typeof header["kid"] !== "string") {
      return { ok: false, reason: "the PIN statement's header is not the pay server's" };
    }
    const now = Math.floor(this.issuer.now().getTime() / 1000);
    const key = await this.certifiedKey(header, now);
    if (!key.ok) return key;
    let claims: unknown;
    try {
      const { payload } = verifyCompact(statement, key.key, JOSE_TYPES.pinStatement, header);
      claims = JSON.parse(payload.toString("utf8"));
    } catch {
      return { ok: false, reason: "the PIN statement's signature does not verify" };
    }
    const parsed = pinStatementSchema.safeParse(claims);
    if (!parsed.success) return { ok: false, reason: "the PIN statement is malformed" };
    const s = parsed.data;
    if (this.policy.pinStatementIssuer !== undefined && s.iss !== this.policy.pinStatementIssuer)
      return { ok: false, reason: "the PIN statement's issuer is not the pay server" };
    if (s.aud !== this.issuer.id) return { ok: false, reason: "the PIN statement is for another issuer" };
    if (s.paymentId !== payment.paymentId) return { ok: false, reason: "the PIN statement is for another payment" };
    if (s.termsHash !== payment.termsHash) return { ok: false, reason: "the PIN statement is for other terms" };
    if (s.deviceKid !== payment.deviceKid) return { ok: false, reason: "the PIN statement is for another device" };
    if (s.iat > now + CLOCK_SKEW_SECONDS || s.exp <= now || s.exp - s.iat > MAX_STATEMENT_LIFETIME_SECONDS) {
      return { ok: false, reason: "the PIN statement is outside its time window" };
    }
    return { ok: true, method: "pin" };
  }

  /** The key the statement's certificate vouches for, when a trusted root certified it for this acquirer, now. */
  private async certifiedKey(
    header: Record<string, unknown>,
    now: number,
  ): Promise<{ ok: true; key: KeyObject } | { ok: false; reason: string }> {
    const certificate = header[STATEMENT_KEY_CERTIFICATE_HEADER];
    if (typeof certificate !== "string")
      return { ok: false, reason: "the PIN statement carries no certificate of its key" };
    const certified = await this.verifiedCertificate(certificate, now);
    if (!certified)
      return { ok: false, reason: "the PIN statement's key is not certified by a network root this issuer trusts" };
    if (certified.acquirerId !== this.policy.acquirerId)
      return { ok: false, reason: "the PIN statement's key is certified for another acquirer" };
    if (certified.kid !== header["kid"])
      return { ok: false, reason: "the PIN statement is signed by a key other than the certified one" };
    return { ok: true, key: certified.key };
  }

  /** The certificate verified against the roots (once per certificate) and valid at `now`, or null. */
  private async verifiedCertificate(certificate: string, now: number): Promise<VerifiedCertificate | null> {
    const known = this.certificates.get(certificate);
    if (known) return known.nbf <= now && now < known.exp ? known : null;
    let content: StatementKeyCertificate;
    try {
      content = await verifyStatementKeyCertificate(certificate, this.policy.networkRoots, now);
    } catch {
      return null;
    }
    const verified = { ...content, key: p256PublicKey(content.jwk) };
    if (this.certificates.size >= CERTIFICATES_KEPT) this.certificates.clear();
    this.certificates.set(certificate, verified);
    return verified;
  }

  private async passkey(assertion: unknown, payment: PaymentContext): Promise<AuthenticationCheck> {
    const parsed = assertionSchema.safeParse(assertion);
    if (!parsed.success) return { ok: false, reason: "the passkey assertion is malformed" };
    const response = parsed.data;
    const relyingParty = this.policy.passkeys;
    if (!relyingParty) return { ok: false, reason: "passkeys are off: the web app is at an IP address" };
    const passkey = await activePasskey(this.issuer.db, payment.cardRef, response.id);
    if (!passkey) return { ok: false, reason: "the passkey is not bound to this card" };
    const verified = await verifyPasskeyAssertion(response, passkey, relyingParty, payment.termsHash);
    if (!verified)
      return { ok: false, reason: "the passkey assertion does not verify for these terms with user verification" };
    return {
      ok: true,
      method: "passkey",
      passkeyCounter: { credentialId: passkey.credentialId, signCount: verified.newCounter },
    };
  }
}
