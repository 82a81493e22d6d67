/**
 * Periodic housekeeping, safe to run in every pay-server process at once (each task works row by row under
 * locks or with idempotent deletes): expiring payments whose windows passed, forgetting old idempotency keys.
 */
import type { Logger } from "pino";
import { PeriodicTask } from "@mpay/service-kit";
import { describeForLog } from "./http/errors.ts";

export interface MaintenanceTask {
  name: string;
  /** Does one pass; returns how many rows it changed. */
  run(): Promise<number>;
}

export class MaintenanceWorker {
  private readonly loop: PeriodicTask;

  constructor(
    private readonly tasks: MaintenanceTask[],
    intervalMs: number,
    private readonly log: Logger,
  ) {
    // As under the setInterval this replaced: the first pass one interval after the start, and the timer unref'd
    // (housekeeping alone keeps no process alive). The interval now runs from the end of a pass.
    this.loop = new PeriodicTask(
      { name: "maintenance pass", intervalMs, firstPass: "after-interval", unref: true, log },
      () => this.runOnce(),
    );
  }

  start(): void {
    this.loop.start();
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

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
