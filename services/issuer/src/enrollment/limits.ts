/**
 * Enrollment limits (DESIGN.md "Split custody", enrollment: rate-limited per card, device and payer; the pay
 * server adds per payer and IP). A failure is refused card data or a wrong one-time code; it counts against the
 * card, the device key and the payer at once. Past a limit, enrollment answers `enrollment_locked` whatever is
 * sent, so a stolen PAN cannot be used to guess the CVC or the code: 5 failures per card in 24 hours, 10 per
 * device key and per payer in an hour, 5 codes sent per card in 24 hours (config.ts).
 *
 * **Every failure is claimed before the check it may fail** (issue 7: counted afterwards, 30 concurrent guesses
 * tested 12 CVCs against a limit of 5) and given back when the check succeeds, as a PIN try is: so however many
 * guesses arrive at once, no more than the limit are ever checked, and a right CVC sent after them meets the lock
 * without being checked. A code to send is claimed together with the card's failure, so a card whose codes are
 * used up answers every guess the same way. The claims are service-kit's LimitSlots (one rule for every limit).
 *
 * A card is counted under a keyed hash of its PAN, so cards this issuer does not have are counted the same way
 * (the answer never tells a real card from a made-up one) and the table holds no PAN.
 */
import { createHmac } from "node:crypto";
import { LimitSlots, type Slot, type SlotLimit } from "@mpay/service-kit";
import type { EnrollmentLimits } from "../config.ts";
import type { Executor } from "../db/client.ts";
import { enrollmentEvents } from "./schema.ts";

export interface LimitSubjects {
  /** `cardKeyOf(…)`. */
  card?: string | undefined;
  device?: string | undefined;
  payer: string;
}

export function cardKeyOf(cardVerificationKey: Uint8Array, pan: string): string {
  return createHmac("sha256", cardVerificationKey).update(`mpay/issuer|enrollment-limit|${pan}`).digest("base64url");
}

export type { Slot };

export class EnrollmentLimiter {
  readonly #slots = new LimitSlots(enrollmentEvents);

  constructor(
    private readonly db: Executor,
    private readonly limits: EnrollmentLimits,
  ) {}

  /** One failure slot for each subject given (card, device, payer), or null when any of them is used up. */
  claimFailures(db: Executor, subjects: Partial<LimitSubjects>, now: Date): Promise<Slot[] | null> {
    return this.#slots.claim(db, this.#failureLimits(subjects), now);
  }

  /**
   * The card's and the device's failure slots and one code to send for the card, claimed together before the card
   * data are checked; null when any is used up.
   */
  claimCardCheck(db: Executor, subjects: { card: string; device: string }, now: Date): Promise<Slot[] | null> {
    const { limits } = this;
    const codes: SlotLimit = {
      subject: `card:${subjects.card}`,
      kind: "code_sent",
      max: limits.codesPerCard,
      windowSeconds: limits.cardWindowSeconds,
    };
    return this.#slots.claim(
      db,
      [...this.#failureLimits({ card: subjects.card, device: subjects.device }), codes],
      now,
    );
  }

  /** Gives back slots of a use that did not count: the failures of a right answer, the code of a wrong one. */
  release(db: Executor, slots: readonly Slot[]): Promise<void> {
    return this.#slots.release(db, slots);
  }

  /** Deletes slots older than every window. */
  sweep(now: Date): Promise<number> {
    const longest = Math.max(
      this.limits.cardWindowSeconds,
      this.limits.deviceWindowSeconds,
      this.limits.payerWindowSeconds,
    );
    return this.#slots.sweep(this.db, new Date(now.getTime() - longest * 1000));
  }

  #failureLimits(subjects: Partial<LimitSubjects>): SlotLimit[] {
    const { limits } = this;
    const wanted: SlotLimit[] = [];
    if (subjects.payer)
      wanted.push({
        subject: `payer:${subjects.payer}`,
        kind: "failure",
        max: limits.payerFailures,
        windowSeconds: limits.payerWindowSeconds,
      });
    if (subjects.device)
      wanted.push({
        subject: `device:${subjects.device}`,
        kind: "failure",
        max: limits.deviceFailures,
        windowSeconds: limits.deviceWindowSeconds,
      });
    if (subjects.card)
      wanted.push({
        subject: `card:${subjects.card}`,
        kind: "failure",
        max: limits.cardFailures,
        windowSeconds: limits.cardWindowSeconds,
      });
    return wanted;
  }
}

/** The failure slots among `slots` (given back when the check they were claimed for succeeds). */
export const failuresOf = (slots: readonly Slot[]): Slot[] => slots.filter((s) => s.kind === "failure");
/** The code slots among `slots` (given back when the card data were wrong and no code is sent). */
export const codesOf = (slots: readonly Slot[]): Slot[] => slots.filter((s) => s.kind === "code_sent");
