/**
 * MPay's announcements to the payer's messenger (DESIGN.md "Authentication without plugins": every pending change
 * is announced as a message from MPay before it takes effect; issue 7).
 *
 * `announce` writes an outbox row in the caller's transaction, so the message exists if and only if the change
 * committed. Delivery never runs inside that transaction and never fails the payer's request: after commit the
 * caller may hand the announcement to `sendSoon` (one attempt in the background), and the maintenance task
 * `deliverDue` retries every pending one with exponential backoff until the messenger stores it. The messenger is
 * idempotent on the announcement's id, so a send whose answer was lost is simply sent again.
 *
 *   const change = await db.transaction(async (tx) => {
 *     …the change…
 *     return announcements.announce(tx, payer.id, { kind: "pin_reset_pending", resetId, activatesAt });
 *   });
 *   announcements.sendSoon(change);
 */
import type { Logger } from "pino";
import { newId } from "@mpay/protocol";
import type { Clock } from "@mpay/service-kit";
import type { Db, Executor } from "../db/client.ts";
import { describeForLog } from "../http/errors.ts";
import type { PayerService } from "../payers/service.ts";
import type { MessengerInboxClient } from "./client.ts";
import type { Announcement, AnnouncementKind } from "./kinds.ts";
import type { AnnouncementStatus } from "./schema.ts";
import {
  claimAnnouncement,
  claimDueAnnouncements,
  insertAnnouncement,
  markDelivered,
  markFailed,
  postpone,
  type AnnouncementRow,
} from "./store.ts";
import { announcementMessage } from "./texts.ts";

export interface AnnouncementSettings {
  /** Delay after the first failed attempt; each further one doubles (with jitter), up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** One attempt's limit; the row's lease outlasts it, so a slow send is never made twice at once. */
  timeoutMs: number;
  /** Announcements one maintenance pass sends at most. */
  batchSize: number;
}

export const DEFAULT_ANNOUNCEMENT_SETTINGS: AnnouncementSettings = {
  retryBaseMs: 2_000,
  retryMaxMs: 10 * 60_000,
  timeoutMs: 5_000,
  batchSize: 20,
};

/** What `announce` hands back for `sendSoon` once the caller's transaction has committed. */
export interface AnnouncementRef {
  id: string;
  kind: AnnouncementKind;
  /** Set by `announceToSend`: the row, already claimed for its first attempt. */
  claimed?: AnnouncementRow;
}

/** An attempt's result: the row's status afterwards, or `not_due` when it was not pending and due (or another sender had it). */
export type AttemptResult = AnnouncementStatus | "not_due";

/** Delay before the next attempt after `attempts` failed ones: an exponential ceiling, full jitter over its upper half. */
export function retryDelayMs(
  attempts: number,
  settings: Pick<AnnouncementSettings, "retryBaseMs" | "retryMaxMs">,
  random = Math.random,
): number {
  const ceiling = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.max(0, attempts - 1));
  // Jitter spreads the backlog when the messenger comes back, instead of every pending row retrying at once.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class AnnouncementService {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly leaseSeconds: number;

  constructor(
    private readonly db: Db,
    private readonly payers: PayerService,
    private readonly inbox: MessengerInboxClient,
    private readonly settings: AnnouncementSettings,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.leaseSeconds = Math.ceil(settings.timeoutMs / 1000) + 15;
  }

  /**
   * Writes the announcement in the caller's transaction `tx`; nothing is sent until it commits. Throws a TypeError
   * for facts that do not fit a message (a caller's bug), so the change rolls back with it rather than go unannounced.
   * `messengerSubject`: the payer's, when the caller already holds the payer's row (it is not read again).
   */
  async announce(
    tx: Executor,
    payerId: string,
    announcement: Announcement,
    messengerSubject?: string,
  ): Promise<AnnouncementRef> {
    return this.#write(tx, payerId, announcement, messengerSubject, false);
  }

  /**
   * `announce`, with the row claimed for its first attempt by the insert itself (the attempt counted, the row leased),
   * for a caller that hands it to `sendSoon` as soon as its transaction commits: the attempt then needs no claim of
   * its own (issue 11: one UPDATE fewer per receipt). Should that send never happen (the process stops), the lease
   * passes and `deliverDue` sends it, as it does a first attempt that failed.
   */
  async announceToSend(
    tx: Executor,
    payerId: string,
    announcement: Announcement,
    messengerSubject?: string,
  ): Promise<AnnouncementRef> {
    return this.#write(tx, payerId, announcement, messengerSubject, true);
  }

  async #write(
    tx: Executor,
    payerId: string,
    announcement: Announcement,
    messengerSubject: string | undefined,
    claimed: boolean,
  ): Promise<AnnouncementRef> {
    const message = announcementMessage(announcement);
    messengerSubject ??= await this.payers.messengerSubject(tx, payerId);
    const now = this.clock.now();
    const id = newId("announcement", now.getTime());
    const row = {
      id,
      payerId,
      messengerSubject,
      kind: announcement.kind,
      text: message.text,
      actions: message.actions,
      params: message.params,
      createdAt: now,
    };
    await insertAnnouncement(tx, row, claimed ? { leaseSeconds: this.leaseSeconds } : null);
    if (!claimed) return { id, kind: announcement.kind };
    // The row as the insert wrote it (its lease aside, which only the database reads).
    const written: AnnouncementRow = {
      ...row,
      status: "pending",
      attempts: 1,
      nextAttemptAt: now,
      lastError: null,
      deliveredAt: null,
    };
    return { id, kind: announcement.kind, claimed: written };
  }

  /**
   * After the caller's commit: one attempt in the background, so the payer hears of the change at once when the
   * messenger is up. Returns at once and never throws; what fails here is retried by `deliverDue`.
   */
  sendSoon(...refs: AnnouncementRef[]): void {
    for (const ref of refs) {
      const attempt = (ref.claimed ? this.attempt(ref.claimed) : this.deliver(ref.id))
        .catch((error: unknown) =>
          this.log.error(
            { announcement: ref.id, err: describeForLog(error) },
            "announcement attempt could not be made",
          ),
        )
        .finally(() => this.inFlight.delete(attempt));
      this.inFlight.add(attempt);
    }
  }

  /** One attempt now for this announcement, if it is pending, due, and no other sender holds it. */
  async deliver(id: string): Promise<AttemptResult> {
    const row = await claimAnnouncement(this.db, id, this.leaseSeconds);
    return row ? this.attempt(row) : "not_due";
  }

  /**
   * The maintenance task: sends the due announcements (every process may run it), batch after batch while batches
   * come full, so a backlog left by an outage drains in one pass; returns how many were delivered.
   */
  async deliverDue(maxBatches = 10): Promise<number> {
    let delivered = 0;
    for (let round = 0; round < maxBatches; round++) {
      const batch = await claimDueAnnouncements(this.db, this.settings.batchSize, this.leaseSeconds);
      delivered += await this.attemptAll(batch);
      if (batch.length < this.settings.batchSize) break;
    }
    return delivered;
  }

  private async attemptAll(batch: AnnouncementRow[]): Promise<number> {
    const results = await Promise.all(
      batch.map((row) =>
        this.attempt(row).catch((error: unknown) => {
          // The claim already counted the attempt and leased the row: it becomes due again by itself.
          this.log.error(
            { announcement: row.id, err: describeForLog(error) },
            "announcement attempt could not be made",
          );
          return "pending" as const;
        }),
      ),
    );
    return results.filter((result) => result === "delivered").length;
  }

  /** Waits for the attempts `sendSoon` started (before the database closes, and in tests). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async attempt(row: AnnouncementRow): Promise<AnnouncementStatus> {
    const sent = await this.inbox.send({
      id: row.id,
      to: row.messengerSubject,
      kind: row.kind,
      text: row.text,
      actions: row.actions,
      // A row from before params existed goes as text only: the messenger app shows its text.
      ...(row.params ? { params: row.params } : {}),
      createdAt: row.createdAt.toISOString(),
    });
    const context = { announcement: row.id, kind: row.kind, payer: row.payerId, attempt: row.attempts };
    switch (sent.outcome) {
      case "delivered":
        await markDelivered(this.db, row.id);
        this.log.info(context, "announcement delivered");
        return "delivered";
      case "refused":
        await markFailed(this.db, row.id, sent.error);
        this.log.error({ ...context, error: sent.error }, "the messenger refused an announcement for good");
        return "failed";
      case "retry": {
        const delayMs = retryDelayMs(row.attempts, this.settings);
        await postpone(this.db, row.id, delayMs, sent.error);
        this.log.warn(
          { ...context, error: sent.error, retryInMs: delayMs },
          "announcement not delivered yet; will retry",
        );
        return "pending";
      }
    }
  }
}
