/** Expires payments whose approval or authorization window passed, on a timer; safe to run in every process. */
import type { Logger } from "pino";
import { describeForLog } from "../http/errors.ts";
import type { PaymentService } from "./service.ts";

export class ExpiryWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly payments: PaymentService,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.payments
        .expireDue()
        .then((n) => n > 0 && this.log.info({ expired: n }, "payments expired"))
        .catch((err: unknown) => this.log.error({ err: describeForLog(err) }, "expiry pass failed"))
        .finally(() => (this.running = null));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
