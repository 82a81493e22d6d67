/**
 * The terms a payer approves (DESIGN.md "Split custody", payment step 2). They are defined once, here: the pay
 * server issues them, the wallet shows exactly these fields (the merchant's registered display name, never text
 * from the request) and signs their canonical JSON (RFC 8785 JCS) with the device key, and the card issuer later
 * checks the same bytes. Changing one field changes the bytes, so a signature covers one payment, amount,
 * merchant and card only.
 */
import canonicalize from "canonicalize";
import { z } from "zod";
import { CAPTURE_METHODS } from "./payment.ts";

/** At most 5 minutes between issuing the terms and their expiry. */
export const MAX_TERMS_LIFETIME_SECONDS = 300;

export const approvalTermsSchema = z.strictObject({
  /** The card issuer's id: who will verify the signature. */
  aud: z.string().min(1).max(64),
  cardRef: z.string().min(1).max(128),
  paymentId: z.string().min(1).max(64),
  merchantId: z.string().min(1).max(64),
  /** The merchant's registered display name. */
  merchantName: z.string().min(1).max(100),
  amount: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  currency: z.string().length(3),
  captureMethod: z.enum(CAPTURE_METHODS),
  /** 128 random bits, base64url: makes every challenge unique even for identical payments. */
  nonce: z.string().regex(/^[A-Za-z0-9_-]{22,64}$/),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().nonnegative(),
});

export type ApprovalTerms = z.infer<typeof approvalTermsSchema>;

/** RFC 8785 canonical JSON of the terms: the exact bytes that are signed and verified. */
export function canonicalTerms(terms: ApprovalTerms): string {
  const text = canonicalize(terms);
  if (text === undefined) throw new Error("terms cannot be canonicalized");
  return text;
}

export function termsBytes(terms: ApprovalTerms): Uint8Array {
  return new TextEncoder().encode(canonicalTerms(terms));
}

export type TermsProblem = "terms_expired" | "terms_not_yet_valid" | "terms_lifetime_too_long";

/** Checks the time window of a set of terms at `nowSeconds` (with 30 s of clock skew allowed for `iat`). */
export function termsTimeProblem(terms: ApprovalTerms, nowSeconds: number): TermsProblem | null {
  if (terms.exp - terms.iat > MAX_TERMS_LIFETIME_SECONDS || terms.exp <= terms.iat) return "terms_lifetime_too_long";
  if (terms.iat > nowSeconds + 30) return "terms_not_yet_valid";
  if (terms.exp <= nowSeconds) return "terms_expired";
  return null;
}

/**
 * The text a PIN approval's MAC covers, under the OPAQUE session key: `mpay/v1|pin-approval|<challengeId>|<base64url
 * SHA-256 of the canonical terms>`. Challenge ids contain no `|`, so no two (id, terms) pairs share a message.
 * (The hash is computed by the caller: WebCrypto on the device, node:crypto on the server.)
 */
export function pinApprovalMessage(challengeId: string, termsSha256Base64url: string): string {
  return `mpay/v1|pin-approval|${challengeId}|${termsSha256Base64url}`;
}

/** True when both sets of terms are the same to the last field (compared on their canonical bytes). */
export function sameTerms(a: ApprovalTerms, b: ApprovalTerms): boolean {
  return canonicalTerms(a) === canonicalTerms(b);
}
