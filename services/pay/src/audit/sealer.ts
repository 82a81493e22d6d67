/**
 * Who seals the audit log's pending entries in a pay-server process (service.ts, group commit): a trigger 50 ms
 * after this process's appends, coalescing every append of that moment into one batch under one head, and a sweep
 * every second for entries no trigger sealed (a process that crashed between its commit and its seal, or an append
 * whose transaction committed after the trigger's seal ran). Every process may run one: their seals take turns on
 * the chain's advisory lock. A failing seal is logged by the sweep, at every interval until someone looks.
 */
import type { Logger } from "pino";
import { PeriodicTask } from "@mpay/service-kit";
import type { AuditService } from "./service.ts";

export interface SealerOptions {
  /**
   * How long after an append the trigger seals (the batch's merge window); default 50 ms. A seal is a transaction of
   * about eight statements, so a wider window seals more appends per head: at 60 payments/s, 5 ms sealed ~3 entries
   * a time and cost 2.5 round trips per payment. Nothing waits for it: readers seal first, verify allows 60 s.
   */
  delayMs?: number;
  /** How often the sweep seals what is left; default 1 s. */
  sweepMs?: number;
}

/** The trigger's retries when appends it was told of are not sealed yet (their transactions had not committed). */
const MAX_RETRY_MS = 800;

export class AuditSealer {
  readonly #delayMs: number;
  readonly #sweep: PeriodicTask;
  #timer: NodeJS.Timeout | null = null;
  #started = false;
  /** Appends of this process the trigger has not yet seen sealed (a hint: a seal takes every process's entries). */
  #owed = 0;
  #retryMs = 0;

  constructor(
    private readonly audit: AuditService,
    log: Logger,
    options: SealerOptions = {},
  ) {
    this.#delayMs = options.delayMs ?? 50;
    // The first sweep one interval after the start; a failing seal is logged at every interval after it.
    this.#sweep = new PeriodicTask(
      {
        name: "sealing the audit log",
        intervalMs: options.sweepMs ?? 1000,
        firstPass: "after-interval",
        unref: true,
        log,
      },
      async () => void (await this.audit.seal()),
    );
  }

  /**
   * Starts the trigger after this process's appends, and with `sweep` the periodic sweep too (the background
   * workers' part: a process with MPAY_WORKERS=off still seals its own appends). Calling it again adds the sweep.
   */
  start({ sweep = true }: { sweep?: boolean } = {}): void {
    this.#started = true;
    this.audit.onAppend(() => this.#appended());
    if (sweep) this.#sweep.start();
  }

  /**
   * Stops the trigger and the sweep, then seals what is pending (waiting for a seal under way): a process that
   * ends, a CLI command too (which never starts the sealer), leaves its appends in the chain.
   */
  async stop(): Promise<void> {
    this.#started = false;
    this.audit.onAppend(null);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#sweep.stop();
    await this.audit.seal().catch(() => undefined); // not sealed now: the next process's sweep, or verify, does it
  }

  #appended(): void {
    this.#owed += 1;
    this.#retryMs = this.#delayMs;
    this.#schedule(this.#delayMs);
  }

  #schedule(ms: number): void {
    if (this.#timer || !this.#started) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.audit.seal().then(
        (sealed) => {
          this.#owed = Math.max(0, this.#owed - sealed);
          if (this.#owed === 0) return;
          // Some appends had not committed yet (or rolled back): look again a little later, then leave it to the sweep.
          this.#retryMs *= 4;
          if (this.#retryMs > MAX_RETRY_MS) this.#owed = 0;
          else this.#schedule(this.#retryMs);
        },
        () => (this.#owed = 0), // the sweep reports it
      );
    }, ms);
    this.#timer.unref();
  }
}
