/**
 * How often a hosted checkout may push a payment request to a phone (issue 9 contract): 3 per phone number and 10
 * per client address within 10 minutes, and 5 per payment. A push is a message in someone's messenger, so every
 * push counts and **is claimed before the message is written** (service-kit's LimitSlots: of N concurrent pushes
 * against a limit L exactly L pass, across processes), whether or not the number has an MPay account — the limit
 * must not tell the two apart either. A claimed push is never given back.
 *
 * The phone number is a subject as a SHA-256, not in clear: the table is a rate limiter, not a list of numbers.
 */
import { createHash } from "node:crypto";
import { LimitSlots, type Clock } from "@mpay/service-kit";
import type { Db } from "../db/client.ts";
import { checkoutPushLimitSlots } from "./schema.ts";

export interface PushLimits {
  perPhonePer10Minutes: number;
  perAddressPer10Minutes: number;
  perPayment: number;
}

export const DEFAULT_PUSH_LIMITS: PushLimits = { perPhonePer10Minutes: 3, perAddressPer10Minutes: 10, perPayment: 5 };

const WINDOW_SECONDS = 600;

export class PushLimiter {
  readonly #slots = new LimitSlots(checkoutPushLimitSlots);
  /** A payment's pushes count over its whole approval window (and never less than the others' window). */
  readonly #paymentWindowSeconds: number;

  constructor(
    private readonly db: Db,
    private readonly limits: PushLimits,
    approvalTtlSeconds: number,
    private readonly clock: Clock,
  ) {
    this.#paymentWindowSeconds = Math.max(approvalTtlSeconds, WINDOW_SECONDS);
  }

  /**
   * Claims one push for the phone (E.164), the address and the payment, or none. Answers null when claimed, else
   * the seconds after which a retry may pass (the window's length: the slots' exact ages stay in the table).
   */
  async claim(phoneNumber: string, clientAddress: string, paymentId: string): Promise<number | null> {
    const limits = [
      {
        subject: `phone:${createHash("sha256").update(phoneNumber).digest("hex")}`,
        kind: "push",
        max: this.limits.perPhonePer10Minutes,
        windowSeconds: WINDOW_SECONDS,
      },
      {
        subject: `address:${clientAddress}`,
        kind: "push",
        max: this.limits.perAddressPer10Minutes,
        windowSeconds: WINDOW_SECONDS,
      },
      {
        subject: `payment:${paymentId}`,
        kind: "push",
        max: this.limits.perPayment,
        windowSeconds: this.#paymentWindowSeconds,
      },
    ];
    const now = this.clock.now();
    const claimed = await this.#slots.claim(this.db, limits, now);
    if (claimed !== null) return null;
    const [, , payment] = limits;
    const paymentUsedUp = (await this.#slots.used(this.db, payment!, now)) >= payment!.max;
    return paymentUsedUp ? this.#paymentWindowSeconds : WINDOW_SECONDS;
  }

  /** Forgets pushes older than every window (a maintenance task); returns how many. */
  sweep(): Promise<number> {
    return this.#slots.sweep(this.db, new Date(this.clock.now().getTime() - this.#paymentWindowSeconds * 1000));
  }
}
