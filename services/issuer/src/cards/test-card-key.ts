/**
 * The card verification key under which the simulator's published test cards get their CVCs (test-cards.ts; the
 * READMEs print every CVC). It protects nothing — the CVCs it yields are public — so it is no trust anchor, unlike
 * the network roots and the issuers' encryption keys: `npm start` makes those afresh, and installs this one for its
 * demo issuers so the documented test cards work there too. Committed in services/issuer/fixtures/ and never replaced.
 */
import { fileURLToPath } from "node:url";

export function testCardVerificationKeyFile(issuerId: string): string {
  return fileURLToPath(
    new URL(`../../fixtures/issuers/${issuerId}/card-verification-key.private.jwk.json`, import.meta.url),
  );
}
