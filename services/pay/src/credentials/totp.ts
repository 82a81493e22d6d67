/**
 * The dashboard's second factor: TOTP (RFC 6238, SHA-1, 6 digits, 30 s) as every authenticator app reads it.
 * A code is accepted one step either side of now (clock drift); the caller stores the step it was accepted at and
 * refuses that step and earlier ones afterwards, so an overheard code cannot be used again.
 */
import { Secret, TOTP } from "otpauth";

const PERIOD_SECONDS = 30;

function totpOf(secretBase32: string, label = "dashboard"): TOTP {
  return new TOTP({
    issuer: "MPay",
    label,
    algorithm: "SHA1",
    digits: 6,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A new 160-bit seed, base32 (what authenticator apps take). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://` URI a QR code carries, labelled with the user's email. */
export function otpauthUri(secretBase32: string, email: string): string {
  return totpOf(secretBase32, email).toString();
}

/** The time step a code is valid at (within ±1 step of `now`), or null when it is no code of this seed. */
export function acceptedStep(secretBase32: string, code: string, now: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpOf(secretBase32).validate({ token: code, timestamp: now.getTime(), window: 1 });
  if (delta === null) return null;
  return Math.floor(now.getTime() / 1000 / PERIOD_SECONDS) + delta;
}

/** The current code (the demo's `npm run demo -- totp`, and tests). */
export function currentCode(secretBase32: string, now: Date = new Date()): string {
  return totpOf(secretBase32).generate({ timestamp: now.getTime() });
}
