/**
 * The webhook delivery worker: claims due outbox rows, signs and sends each, records the outcome. Retries back
 * off exponentially with full jitter up to a maximum number of attempts; then the delivery is `failed`, visible
 * and re-sendable through the API. A process killed at any point loses nothing: an unsent claimed row becomes
 * due again when its lease runs out (so a receiver may see a message twice — it dedupes by `webhook-id`).
 */
import type { Logger } from "pino";
import type { Db } from "../db/client.ts";
import type { KeyProvider } from "../keys/provider.ts";
import type { MerchantService } from "../merchants/service.ts";
import { describeForLog } from "../http/errors.ts";
import { signAndSend } from "./dispatch.ts";
import { EndpointSecrets } from "./endpoint-secrets.ts";
import type { DeliveryResult } from "./sender.ts";
import { claimDue, markAttemptFailed, markDelivered, type ClaimedDelivery } from "./store.ts";
import { faultPoint } from "../fault-points.ts";

export interface DeliverySettings {
  maxAttempts: number;
  /** First retry delay; each further one doubles, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
  pollIntervalMs: number;
  batchSize: number;
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  maxAttempts: 8,
  baseDelayMs: 10_000,
  maxDelayMs: 6 * 3600_000,
  timeoutMs: 10_000,
  pollIntervalMs: 500,
  batchSize: 20,
};

/** Delay before attempt n+1 after n failed attempts: full jitter over an exponential ceiling. */
export function retryDelayMs(
  failedAttempts: number,
  s: Pick<DeliverySettings, "baseDelayMs" | "maxDelayMs">,
  random = Math.random,
): number {
  const ceiling = Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  // Never less than half the ceiling, so retries of one delivery stay spread out.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The JSON body every attempt of a delivery sends (the same bytes each time). */
export function eventBody(
  d: Pick<ClaimedDelivery, "eventId" | "eventType" | "eventCreatedAt" | "mode" | "eventData">,
): string {
  return JSON.stringify({
    id: d.eventId,
    object: "event",
    type: d.eventType,
    createdAt: d.eventCreatedAt,
    livemode: d.mode === "live",
    data: d.eventData,
  });
}

export class DeliveryWorker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  /** Leases outlast the HTTP timeout, so a slow but live send is never claimed twice. */
  private readonly leaseSeconds: number;
  private readonly secrets: EndpointSecrets;

  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    merchants: MerchantService,
    private readonly settings: DeliverySettings,
    private readonly log: Logger,
  ) {
    this.leaseSeconds = Math.ceil(settings.timeoutMs / 1000) + 20;
    this.secrets = new EndpointSecrets(keys, merchants);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass: claim a batch and send it. Returns how many deliveries were attempted. */
  async runOnce(): Promise<number> {
    // A sealed vault (shamir, before its custodians come) can sign nothing: claiming now would only burn attempts.
    if (this.keys.isSealed()) return 0;
    const batch = await claimDue(this.db, this.settings.batchSize, this.leaseSeconds);
    await Promise.all(batch.map((d) => this.attempt(d)));
    return batch.length;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .then((n) => this.schedule(n === this.settings.batchSize ? 0 : this.settings.pollIntervalMs))
        .catch((err: unknown) => {
          this.log.error({ err: describeForLog(err) }, "webhook worker pass failed");
          this.schedule(this.settings.pollIntervalMs * 4);
        });
    }, delayMs);
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    faultPoint("webhook.before-send");
    const result = await this.send(d).catch((err: unknown) => {
      // A failure before the request (the secret could not be opened, say) counts as a failed attempt, so the
      // delivery still ends `failed` after maxAttempts instead of being claimed again forever.
      this.log.error({ delivery: d.id, err: describeForLog(err) }, "webhook attempt could not be made");
      return { ok: false, statusCode: undefined, error: "internal error before sending", durationMs: 0 };
    });
    faultPoint("webhook.after-send");
    const context = {
      delivery: d.id,
      event: d.eventId,
      endpoint: d.endpointId,
      attempt: d.attempts,
      durationMs: result.durationMs,
    };
    if (result.ok) {
      await markDelivered(this.db, d.id, result.statusCode ?? 200);
      faultPoint("webhook.after-commit");
      this.log.info({ ...context, statusCode: result.statusCode }, "webhook delivered");
      return;
    }
    const retryAt =
      d.attempts < this.settings.maxAttempts ? new Date(Date.now() + retryDelayMs(d.attempts, this.settings)) : null;
    await markAttemptFailed(this.db, d.id, {
      statusCode: result.statusCode ?? null,
      error: result.error ?? "failed",
      retryAt,
    });
    this.log.warn(
      { ...context, statusCode: result.statusCode, error: result.error, retryAt },
      retryAt ? "webhook attempt failed; will retry" : "webhook delivery failed for good",
    );
  }

  private send(d: ClaimedDelivery): Promise<DeliveryResult> {
    return signAndSend(this.keys, this.secrets, { ...d, body: eventBody(d) }, this.settings.timeoutMs);
  }
}
