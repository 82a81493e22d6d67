import { createHash } from "node:crypto";

/**
 * base64url SHA-256 of the canonical terms: what a PIN approval's MAC names and what a passkey approval's
 * WebAuthn challenge is, so both kinds of user verification cover exactly these terms.
 */
export function termsHash(canonicalTerms: string): string {
  return createHash("sha256").update(canonicalTerms).digest("base64url");
}
