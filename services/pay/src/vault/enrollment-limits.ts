/**
 * The pay server's enrollment limits: tries per payer and per client address within an hour, on top of the
 * issuer's per card, device and payer (DESIGN.md "Split custody": enrollment is rate-limited per card, device,
 * payer and IP). **Every try counts, refused ones included, and is claimed before the issuer is asked** (issue 7,
 * hole 3): card testing is nearly all refusals, and a limit counted after the issuer's answer let one payer send
 * 19 enrollments against a limit of 10. The claim is service-kit's LimitSlots (the issuer's limits use the same
 * rule), in this context's `enrollment_limit_slots`, on the configured clock. A try is never given back: a
 * started enrollment is a code sent to someone's phone.
 */
import { LimitSlots, type Clock } from "@mpay/service-kit";
import type { Db } from "../db/client.ts";
import { enrollmentLimitSlots } from "./schema.ts";

export interface EnrollmentLimits {
  /** Enrollment tries (card and recovery) per payer within an hour. */
  perPayerPerHour: number;
  /** Enrollment tries per client address within an hour, across payers. */
  perAddressPerHour: number;
}

export const DEFAULT_ENROLLMENT_LIMITS: EnrollmentLimits = { perPayerPerHour: 10, perAddressPerHour: 30 };

const WINDOW_SECONDS = 3600;

export class EnrollmentLimiter {
  readonly #slots = new LimitSlots(enrollmentLimitSlots);

  constructor(
    private readonly db: Db,
    private readonly limits: EnrollmentLimits,
    private readonly clock: Clock,
  ) {}

  /** Claims one try for the payer and one for the address, or neither: false when either is used up. */
  async claimTry(payerId: string, clientIp: string): Promise<boolean> {
    const claimed = await this.#slots.claim(
      this.db,
      [
        { subject: `payer:${payerId}`, kind: "try", max: this.limits.perPayerPerHour, windowSeconds: WINDOW_SECONDS },
        {
          subject: `address:${clientIp}`,
          kind: "try",
          max: this.limits.perAddressPerHour,
          windowSeconds: WINDOW_SECONDS,
        },
      ],
      this.clock.now(),
    );
    return claimed !== null;
  }

  /** Forgets tries older than the window (a maintenance task); returns how many. */
  sweep(): Promise<number> {
    return this.#slots.sweep(this.db, new Date(this.clock.now().getTime() - WINDOW_SECONDS * 1000));
  }
}
