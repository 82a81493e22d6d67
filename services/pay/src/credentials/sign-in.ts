/**
 * What every password + TOTP sign-in of the pay server shares (the merchant dashboard's users, the console's staff):
 * the attempt limit per email claimed before the password is checked, the password check against a decoy hash for an
 * unknown email, the TOTP seed sealed by the key provider and checked with its replay guard, the emails' form.
 * Each context keeps its own tables; this module holds no table and imports no context.
 */
import { LimitSlots, type LimitSlotsTable } from "@mpay/service-kit";
import type { Db } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { KeyPurpose, KeyProvider } from "../keys/provider.ts";
import { decoyHash, verifyPassword } from "./password.ts";
import { acceptedStep, newTotpSecret, otpauthUri } from "./totp.ts";

/** Sign-in attempts per email: 5 within 15 minutes (a right password gives its slot back). */
export const SIGN_IN_ATTEMPTS = { max: 5, windowSeconds: 15 * 60 };
export const CHALLENGE_TTL_MS = 5 * 60_000;
export const CHALLENGE_MAX_FAILURES = 5;

const EMAIL_PATTERN = /^[^\s@<>"]{1,64}@[a-z0-9-]+(\.[a-z0-9-]+)+$/;

export function normalEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function requireEmail(input: string): string {
  const email = normalEmail(input);
  if (email.length > 254 || !EMAIL_PATTERN.test(email))
    throw new ApiError("parameter_invalid", "email must be an email address.", "email");
  return email;
}

export function requireName(input: string): string {
  const name = input.trim();
  if (!name || name.length > 100 || /[<>\p{Cc}]/u.test(name))
    throw new ApiError("parameter_invalid", "name must be 1 to 100 characters of plain text.", "name");
  return name;
}

/** The attempt slots of one sign-in (its own table), and the password step's checks in the order that matters. */
export class PasswordStep {
  readonly #slots: LimitSlots;

  constructor(
    private readonly db: Db,
    table: LimitSlotsTable,
  ) {
    this.#slots = new LimitSlots(table);
    // The decoy hash is made now, so that the first unknown email costs no more time than a wrong password.
    decoyHash().catch(() => undefined);
  }

  /**
   * Claims an attempt for `email` **before** checking anything, then checks the password (against the decoy hash
   * when there is no user, so the time does not tell them apart). Answers "locked", "failed" or "ok"; on "ok" the
   * attempt is given back (wrong codes count on the challenge).
   */
  async check(
    email: string,
    password: string,
    stored: { passwordHash: string; disabled: boolean } | null,
    now: Date,
  ): Promise<"locked" | "failed" | "ok"> {
    const slots = await this.#slots.claim(
      this.db,
      [{ subject: `email:${email}`, kind: "attempt", ...SIGN_IN_ATTEMPTS }],
      now,
    );
    if (!slots) return "locked";
    const matches = await verifyPassword(password, stored?.passwordHash ?? (await decoyHash()));
    if (!stored || !matches || stored.disabled) return "failed";
    await this.#slots.release(this.db, slots);
    return "ok";
  }

  /** A finished sign-in forgets the email's attempts. */
  forget(email: string): Promise<void> {
    return this.#slots.forget(this.db, `email:${email}`, "attempt");
  }

  /** Forgets attempts past their window (maintenance). */
  sweep(now: Date): Promise<number> {
    return this.#slots.sweep(this.db, new Date(now.getTime() - SIGN_IN_ATTEMPTS.windowSeconds * 1000));
  }
}

/** A TOTP seed sealed by the key provider under `purpose` and `aad` (the user's id in it). */
export class SealedTotp {
  constructor(
    private readonly keys: KeyProvider,
    private readonly purpose: KeyPurpose,
  ) {}

  seal(secretBase32: string, aad: string): Promise<string> {
    return this.keys.seal(this.purpose, new TextEncoder().encode(secretBase32), aad);
  }

  /** A new seed offered at first sign-in: sealed for the challenge, and in clear for the QR code (answered once). */
  async offer(aad: string, email: string): Promise<{ sealed: string; secret: string; otpauthUri: string }> {
    const secret = newTotpSecret();
    return { sealed: await this.seal(secret, aad), secret, otpauthUri: otpauthUri(secret, email) };
  }

  /**
   * The time step `code` is valid at for the sealed seed, or null. The caller then accepts the step only past the
   * last one accepted, in one conditional UPDATE of its own table (the replay guard).
   */
  async step(sealed: string, aad: string, code: string, now: Date): Promise<number | null> {
    const opened = await this.keys.open(this.purpose, sealed, aad);
    try {
      return acceptedStep(new TextDecoder().decode(opened), code, now);
    } finally {
      opened.fill(0);
    }
  }
}
