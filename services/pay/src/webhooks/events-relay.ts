/**
 * The transactional outbox's relay to NATS JetStream (issue 12), run when NATS_URL is set. An event is written in
 * the transaction of the change it reports (events.ts); after the commit this relay claims unpublished events
 * oldest first, publishes each with `Nats-Msg-Id` = its id, and marks those NATS acknowledged — in one database
 * transaction whose row locks (SKIP LOCKED) keep two relaying processes off the same events.
 *
 * A crash between the ack and the mark rolls the mark back: the events are published again, and the stream's
 * duplicate window stores them once. NATS down: the events wait in the table (webhooks, which read the database,
 * go on), and the relay retries with an exponential backoff capped at maxBackoffMs.
 */
import type { Logger } from "pino";
import { PeriodicTask, type PassOutcome } from "@mpay/service-kit";
import type { Db } from "../db/client.ts";
import { describeForLog } from "../http/errors.ts";
import type { EventStreamPublisher } from "./events-relay-nats.ts";
import { claimUnpublished, countUnpublished, markPublished } from "./events-relay-store.ts";

export interface RelaySettings {
  batchSize: number;
  pollIntervalMs: number;
  /** First delay after a failed pass; each further failure doubles it, up to maxBackoffMs. */
  baseBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RELAY_SETTINGS: RelaySettings = {
  batchSize: 100,
  pollIntervalMs: 200,
  baseBackoffMs: 500,
  maxBackoffMs: 30_000,
};

export interface RelayPass {
  /** Events NATS acknowledged in this pass (and now marked published). */
  published: number;
  /** Of those, the ones the stream already had (dropped by its duplicate window). */
  duplicates: number;
}

export class EventsRelay {
  private readonly loop: PeriodicTask;
  private failures = 0;
  /** Since start, for the soak drill and the logs. */
  readonly totals = { published: 0, duplicates: 0, failedPasses: 0 };

  constructor(
    private readonly db: Db,
    private readonly publisher: EventStreamPublisher,
    private readonly settings: RelaySettings,
    private readonly log: Logger,
  ) {
    this.loop = new PeriodicTask({ name: "events relay pass", intervalMs: settings.pollIntervalMs, log }, () =>
      this.relayPass(),
    );
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.publisher.close();
  }

  /** Events waiting to be published. */
  backlog(): Promise<number> {
    return countUnpublished(this.db);
  }

  /**
   * One pass over one batch. Publishing stops at the first failure, and what was acknowledged before it is marked
   * (so a batch keeps its order); the failure is thrown after the commit.
   */
  async runOnce(): Promise<RelayPass> {
    await this.publisher.ready();
    let failure: unknown = null;
    const pass = await this.db.transaction(async (tx) => {
      const batch = await claimUnpublished(tx, this.settings.batchSize);
      const acknowledged: string[] = [];
      let duplicates = 0;
      for (const event of batch) {
        try {
          if ((await this.publisher.publish(event)).duplicate) duplicates++;
        } catch (error) {
          failure = error;
          break;
        }
        acknowledged.push(event.id);
      }
      await markPublished(tx, acknowledged);
      return { published: acknowledged.length, duplicates, claimed: batch.length };
    });
    this.totals.published += pass.published;
    this.totals.duplicates += pass.duplicates;
    if (failure !== null) throw failure;
    return { published: pass.published, duplicates: pass.duplicates };
  }

  /** The delay after `failures` failed passes in a row: jitter over an exponential ceiling. */
  backoffMs(failures: number, random = Math.random): number {
    const ceiling = Math.min(this.settings.maxBackoffMs, this.settings.baseBackoffMs * 2 ** Math.max(0, failures - 1));
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  /**
   * The loop's pass. A failure is an outage the relay expects (NATS down), not a bug: it backs off and logs here,
   * so the loop's own error line never shows (it would flood the log for as long as NATS is away).
   */
  private async relayPass(): Promise<PassOutcome> {
    try {
      const pass = await this.runOnce();
      if (this.failures > 0) this.log.info({ failedPasses: this.failures }, "events relay publishing again");
      this.failures = 0;
      // A full batch says more are waiting: the next pass starts at once.
      return pass.published === this.settings.batchSize ? { nextInMs: 0 } : undefined;
    } catch (error) {
      this.failures++;
      this.totals.failedPasses++;
      const delayMs = this.backoffMs(this.failures);
      // Once per outage, then every tenth pass: a NATS down for hours must not flood the log.
      if (this.failures === 1 || this.failures % 10 === 0)
        this.log.warn(
          { err: describeForLog(error), failedPasses: this.failures, retryInMs: delayMs },
          "events relay could not publish; events wait in the database",
        );
      return { nextInMs: delayMs };
    }
  }
}
