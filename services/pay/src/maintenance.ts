/**
 * Periodic housekeeping, safe to run in every pay-server process at once (each task works row by row under
 * locks or with idempotent deletes): expiring payments whose windows passed, forgetting old idempotency keys.
 */
import type { Logger } from "pino";
import { describeForLog } from "./http/errors.ts";

export interface MaintenanceTask {
  name: string;
  /** Does one pass; returns how many rows it changed. */
  run(): Promise<number>;
}

export class MaintenanceWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly tasks: MaintenanceTask[],
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.runOnce().finally(() => (this.running = null));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Runs every task once; a failing task is logged and does not stop the others. */
  async runOnce(): Promise<void> {
    for (const task of this.tasks) {
      try {
        const changed = await task.run();
        if (changed > 0) this.log.info({ task: task.name, changed }, "maintenance task ran");
      } catch (err) {
        this.log.error({ task: task.name, err: describeForLog(err) }, "maintenance task failed");
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
