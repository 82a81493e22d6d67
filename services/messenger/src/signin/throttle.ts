/**
 * Limits on password guessing, per phone number and per client IP, kept in the database so that every messenger
 * process shares them. An attempt **claims its slot when it starts** (before the password is checked), with the
 * same rule as every other limit in MPay (service-kit's LimitSlots: the subject locked, the sliding window counted,
 * the slot inserted, in one transaction), so of any number of simultaneous guesses exactly the limit are checked.
 * A success forgives the number's failures and gives this attempt back to the address. Keys are SHA-256 hashes
 * (numbers people mistyped are not kept in clear); windows read the configured clock.
 */
import { createHash } from "node:crypto";
import { LimitSlots, type Clock, type Slot } from "@mpay/service-kit";
import type { Db } from "../db/client.ts";
import { loginAttemptSlots } from "../db/schema.ts";
import type { LoginLimits } from "../config.ts";
import { normalizePhoneNumber } from "@mpay/protocol";

export interface AttemptKeys {
  phone: string;
  ip: string;
}

/** The slots one attempt claimed; hand them to `succeeded` when the password was right. */
export type LoginAttempt = readonly Slot[];

const KIND = "attempt";

function hashed(kind: "phone" | "ip", value: string): string {
  return `${kind}:${createHash("sha256").update(value).digest("base64url")}`;
}

export function attemptKeys(phoneInput: string, ip: string): AttemptKeys {
  const phone = normalizePhoneNumber(phoneInput) ?? phoneInput.trim().toLowerCase();
  return { phone: hashed("phone", phone), ip: hashed("ip", ip) };
}

export class LoginThrottle {
  readonly #slots = new LimitSlots(loginAttemptSlots);

  constructor(
    private readonly db: Db,
    private readonly limits: LoginLimits,
    private readonly clock: Clock,
  ) {}

  /** Claims one attempt for both keys; null when either is used up (the password must not be checked). */
  begin(keys: AttemptKeys): Promise<LoginAttempt | null> {
    const { perPhone, perIp, windowSeconds } = this.limits;
    return this.#slots.claim(
      this.db,
      [
        { subject: keys.phone, kind: KIND, max: perPhone, windowSeconds },
        { subject: keys.ip, kind: KIND, max: perIp, windowSeconds },
      ],
      this.clock.now(),
    );
  }

  /** A correct password: the number's failures are forgiven, and this attempt no longer counts for the address. */
  async succeeded(keys: AttemptKeys, attempt: LoginAttempt): Promise<void> {
    await this.#slots.release(this.db, attempt);
    await this.#slots.forget(this.db, keys.phone, KIND);
  }

  /** Deletes attempts older than the window; returns how many. */
  sweep(): Promise<number> {
    return this.#slots.sweep(this.db, new Date(this.clock.now().getTime() - this.limits.windowSeconds * 1000));
  }
}
