/**
 * Card verification codes without storing them. A real issuer never keeps the CVC of a card: it recomputes it
 * from the PAN, the expiry and the service code under its card verification key (CVK), inside an HSM, with the
 * networks' 3DES CVV algorithm. This simulator does the same with HMAC-SHA-256 in place of 3DES, decimalised to
 * three digits. So the CVC a payer types is checked at enrollment and then forgotten; no table holds it, not even
 * hashed (DESIGN.md "Split custody": the CVC is stored nowhere).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** The service code printed on the magnetic stripe of an ordinary international credit card. */
const SERVICE_CODE = "101";

/** The CVC of a card: `pan` digits, `expiryMonth` `YYYY-MM`, `cvk` the issuer's 32-byte key. */
export function cardVerificationCode(cvk: Uint8Array, pan: string, expiryMonth: string): string {
  const yymm = expiryMonth.slice(2, 4) + expiryMonth.slice(5, 7);
  const mac = createHmac("sha256", cvk).update(`${pan}|${yymm}|${SERVICE_CODE}`).digest();
  return String(mac.readUInt32BE(0) % 1000).padStart(3, "0");
}

/** Compares a typed CVC with the card's, in constant time. */
export function cvcMatches(cvk: Uint8Array, pan: string, expiryMonth: string, typed: string): boolean {
  const expected = Buffer.from(cardVerificationCode(cvk, pan, expiryMonth));
  const given = Buffer.from(typed.padStart(3, "0").slice(0, 4));
  return given.length === expected.length && timingSafeEqual(given, expected);
}
