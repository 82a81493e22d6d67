/**
 * A service's background loop (the pay server's webhook worker, outbox relay, housekeeping, audit sweep): a pass,
 * a pause, the next pass. The pause runs from the end of a pass, so a pass never overlaps the one before it: a slow
 * pass (a database under load, an endpoint that takes its time) delays the next one instead of running beside it
 * and claiming the same rows. A pass that throws is logged through describeForLog — a failed query's message
 * carries its SQL parameters, so the log keeps the database's code and message only — and the loop goes on.
 * stop() waits for the pass under way: a process that shuts down closes its database after the last query.
 */
import { describeForLog } from "./http/api-error.ts";

/** The little of a logger a task uses (pino's fits). */
export interface TaskLog {
  error(fields: Record<string, unknown>, message: string): void;
}

/** What a pass may ask of the next one: by default it starts `intervalMs` after this one ended. */
export type PassOutcome = void | { nextInMs: number };

export interface PeriodicTaskOptions {
  /** The log line of a failed pass says "<name> failed". */
  name: string;
  /** The pause between the end of a pass and the start of the next. */
  intervalMs: number;
  /** The pause after a pass that threw (a longer one spares a database that is down); default intervalMs. */
  retryInMs?: number;
  /** The first pass at start() (default), or one interval later (housekeeping need not hold up a start). */
  firstPass?: "at-start" | "after-interval";
  /** The loop alone does not keep the process alive: for loops a CLI command may open and never stop. */
  unref?: boolean;
  log: TaskLog;
}

export class PeriodicTask {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #started = false;

  /** `pass` does one round of the work; it must not call stop() (which waits for the pass). */
  constructor(
    private readonly options: PeriodicTaskOptions,
    private readonly pass: () => Promise<PassOutcome>,
  ) {}

  get started(): boolean {
    return this.#started;
  }

  /** Starts the loop; a loop already started goes on as it was (one loop, never two side by side). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    // Restarted while the pass of before stop() still runs: that pass schedules the next when it ends.
    if (this.#running) return;
    this.#schedule(this.options.firstPass === "after-interval" ? this.options.intervalMs : 0);
  }

  /** Stops the loop: no pass starts after this is called, and it resolves once the pass under way ended. */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (!this.#started) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      // The pass's end is handled in a callback, which runs after this assignment even when `pass` throws at once.
      this.#running = this.#runPass().then((nextInMs) => {
        this.#running = null;
        this.#schedule(nextInMs);
      });
    }, delayMs);
    if (this.options.unref) this.#timer.unref();
  }

  /** One pass, and the pause before the next. Never rejects: stop() awaits it. */
  async #runPass(): Promise<number> {
    try {
      return (await this.pass())?.nextInMs ?? this.options.intervalMs;
    } catch (error) {
      this.options.log.error({ err: describeForLog(error) }, `${this.options.name} failed`);
      return this.options.retryInMs ?? this.options.intervalMs;
    }
  }
}
