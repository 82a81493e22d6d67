/**
 * Enrollment limits (DESIGN.md "Split custody", enrollment: rate-limited per card, device and payer; the pay
 * server adds per payer and IP). A failure is refused card data or a wrong one-time code; it counts against the
 * card, the device key and the payer at once. Past a limit, enrollment answers `enrollment_locked` whatever is
 * sent, so a stolen PAN cannot be used to guess the CVC or the code: 5 failures per card in 24 hours, 10 per
 * device key and per payer in an hour, 5 codes sent per card in 24 hours (config.ts).
 *
 * A card is counted under a keyed hash of its PAN, so cards this issuer does not have are counted the same way
 * (the answer never tells a real card from a made-up one) and the table holds no PAN.
 */
import { createHmac } from "node:crypto";
import { and, count, eq, gte, lt } from "drizzle-orm";
import type { EnrollmentLimits } from "../config.ts";
import type { Executor } from "../db/client.ts";
import { enrollmentEvents } from "../db/schema.ts";

export interface LimitSubjects {
  /** `cardKeyOf(…)`. */
  card?: string | undefined;
  device?: string | undefined;
  payer: string;
}

export function cardKeyOf(cardVerificationKey: Uint8Array, pan: string): string {
  return createHmac("sha256", cardVerificationKey).update(`mpay/issuer|enrollment-limit|${pan}`).digest("base64url");
}

export class EnrollmentLimiter {
  constructor(
    private readonly db: Executor,
    private readonly limits: EnrollmentLimits,
  ) {}

  private async countSince(db: Executor, subject: string, kind: "failure" | "code_sent", since: Date): Promise<number> {
    const [row] = await db
      .select({ n: count() })
      .from(enrollmentEvents)
      .where(and(eq(enrollmentEvents.subject, subject), eq(enrollmentEvents.kind, kind), gte(enrollmentEvents.at, since)));
    return Number(row?.n ?? 0);
  }

  private ago(now: Date, seconds: number): Date {
    return new Date(now.getTime() - seconds * 1000);
  }

  /** True when any of the subjects is past its failure limit (`db`: the transaction, when in one). */
  async locked(subjects: LimitSubjects, now: Date, db: Executor = this.db): Promise<boolean> {
    const { limits } = this;
    if ((await this.countSince(db, `payer:${subjects.payer}`, "failure", this.ago(now, limits.payerWindowSeconds))) >= limits.payerFailures) return true;
    if (subjects.device && (await this.countSince(db, `device:${subjects.device}`, "failure", this.ago(now, limits.deviceWindowSeconds))) >= limits.deviceFailures) return true;
    if (subjects.card && (await this.countSince(db, `card:${subjects.card}`, "failure", this.ago(now, limits.cardWindowSeconds))) >= limits.cardFailures) return true;
    return false;
  }

  /** True when the card has had all the codes it may be sent in its window. */
  async codesExhausted(card: string, now: Date): Promise<boolean> {
    return (await this.countSince(this.db, `card:${card}`, "code_sent", this.ago(now, this.limits.cardWindowSeconds))) >= this.limits.codesPerCard;
  }

  async recordFailure(db: Executor, subjects: LimitSubjects, now: Date): Promise<void> {
    const rows = [`payer:${subjects.payer}`, subjects.device ? `device:${subjects.device}` : null, subjects.card ? `card:${subjects.card}` : null]
      .filter((s): s is string => s !== null)
      .map((subject) => ({ subject, kind: "failure", at: now }));
    await db.insert(enrollmentEvents).values(rows);
  }

  async recordCodeSent(db: Executor, card: string, now: Date): Promise<void> {
    await db.insert(enrollmentEvents).values({ subject: `card:${card}`, kind: "code_sent", at: now });
  }

  /** Deletes events older than every window. */
  async sweep(now: Date): Promise<number> {
    const longest = Math.max(this.limits.cardWindowSeconds, this.limits.deviceWindowSeconds, this.limits.payerWindowSeconds);
    const deleted = await this.db.delete(enrollmentEvents).where(lt(enrollmentEvents.at, this.ago(now, longest))).returning({ id: enrollmentEvents.id });
    return deleted.length;
  }
}
