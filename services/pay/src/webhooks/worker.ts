/**
 * The webhook delivery worker: claims due outbox rows, signs and sends each, records the outcome. Retries back
 * off exponentially with jitter, an hour apart at most, for RETRY_HORIZON_MS (3 days, as Stripe) after the delivery
 * was made; then the delivery is `failed`, visible and re-sendable through the API. An endpoint failing all that
 * time is disabled (endpoint-health.ts). A process killed at any point loses nothing: an unsent claimed row becomes
 * due again when its lease runs out (so a receiver may see a message twice — it dedupes by `webhook-id`).
 */
import type { Logger } from "pino";
import { PeriodicTask } from "@mpay/service-kit";
import type { Db } from "../db/client.ts";
import type { KeyProvider } from "../keys/provider.ts";
import type { MerchantService } from "../merchants/service.ts";
import { describeForLog } from "../http/errors.ts";
import { signAndSend } from "./dispatch.ts";
import type { EndpointHealth } from "./endpoint-health.ts";
import { EndpointSecrets } from "./endpoint-secrets.ts";
import type { DeliveryResult } from "./sender.ts";
import { claimDue, markAttemptFailed, markDelivered, type ClaimedDelivery, type EndpointRow } from "./store.ts";

/** How long after it was made a delivery is retried before it ends `failed`. */
export const RETRY_HORIZON_MS = 3 * 86_400_000;
import { faultPoint } from "../fault-points.ts";

export interface DeliverySettings {
  /** Retries stop this long after the delivery was made (default RETRY_HORIZON_MS). */
  retryForMs?: number | undefined;
  /** An extra bound on attempts (MPAY_WEBHOOK_MAX_ATTEMPTS, and tests that give up fast); none by default. */
  maxAttempts?: number | undefined;
  /** First retry delay; each further one doubles, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
  pollIntervalMs: number;
  batchSize: number;
}

export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  retryForMs: RETRY_HORIZON_MS,
  baseDelayMs: 10_000,
  maxDelayMs: 3600_000,
  timeoutMs: 10_000,
  pollIntervalMs: 500,
  batchSize: 20,
};

/** Delay before attempt n+1 after n failed attempts: jitter over an exponential ceiling (capped at maxDelayMs). */
export function retryDelayMs(
  failedAttempts: number,
  s: Pick<DeliverySettings, "baseDelayMs" | "maxDelayMs">,
  random = Math.random,
): number {
  const ceiling = Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  // Never less than half the ceiling, so retries of one delivery stay spread out.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** When the next attempt is due, or null when the delivery has had its retries (horizon or attempt bound). */
export function nextAttemptAt(
  d: Pick<ClaimedDelivery, "attempts" | "createdAt">,
  now: Date,
  s: DeliverySettings,
  random = Math.random,
): Date | null {
  if (s.maxAttempts !== undefined && d.attempts >= s.maxAttempts) return null;
  const at = now.getTime() + retryDelayMs(d.attempts, s, random);
  return at <= d.createdAt.getTime() + (s.retryForMs ?? RETRY_HORIZON_MS) ? new Date(at) : null;
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
  private readonly loop: PeriodicTask;
  /** Leases outlast the HTTP timeout, so a slow but live send is never claimed twice. */
  private readonly leaseSeconds: number;
  private readonly secrets: EndpointSecrets;

  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    merchants: MerchantService,
    private readonly settings: DeliverySettings,
    private readonly log: Logger,
    private readonly health: EndpointHealth,
  ) {
    this.leaseSeconds = Math.ceil(settings.timeoutMs / 1000) + 20;
    this.secrets = new EndpointSecrets(keys, merchants);
    this.loop = new PeriodicTask(
      {
        name: "webhook worker pass",
        intervalMs: settings.pollIntervalMs,
        // A pass fails when the database does (a send's own failure is recorded, not thrown): spare it meanwhile.
        retryInMs: settings.pollIntervalMs * 4,
        log,
      },
      // A full batch says more are due: the next pass starts at once.
      async () => ((await this.runOnce()) === settings.batchSize ? { nextInMs: 0 } : undefined),
    );
  }

  start(): void {
    this.loop.start();
  }

  /** Stops claiming; resolves once the sends of the pass under way are recorded. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One pass: claim a batch and send it. Returns how many deliveries were attempted. */
  async runOnce(): Promise<number> {
    // A sealed vault (shamir, before its custodians come) can sign nothing: claiming now would only burn attempts.
    if (this.keys.isSealed()) return 0;
    const batch = await claimDue(this.db, this.settings.batchSize, this.leaseSeconds, this.health.clock.now());
    await Promise.all(batch.map((d) => this.attempt(d)));
    return batch.length;
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    faultPoint("webhook.before-send");
    const result: DeliveryResult & { internal?: true } = await this.send(d).catch((err: unknown) => {
      // A failure before the request (the secret could not be opened, say) counts as a failed attempt, so the
      // delivery still ends `failed` after its retries instead of being claimed again forever.
      this.log.error({ delivery: d.id, err: describeForLog(err) }, "webhook attempt could not be made");
      return {
        ok: false,
        statusCode: undefined,
        error: "internal error before sending",
        durationMs: 0,
        internal: true as const,
      };
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
      await this.db.transaction((tx) =>
        this.health.succeeded(tx, d.endpointId, () => markDelivered(tx, d.id, result.statusCode ?? 200)),
      );
      faultPoint("webhook.after-commit");
      this.log.info({ ...context, statusCode: result.statusCode }, "webhook delivered");
      return;
    }
    const retryAt = nextAttemptAt(d, this.health.clock.now(), this.settings);
    const outcome = { statusCode: result.statusCode ?? null, error: result.error ?? "failed", retryAt };
    let disabled: EndpointRow | null = null;
    // Our own failure before any request (the vault could not open the secret) says nothing of the endpoint: it
    // does not count towards disabling it.
    if (result.internal) await markAttemptFailed(this.db, d.id, outcome);
    else
      disabled = await this.db.transaction((tx) =>
        this.health.failed(tx, d.endpointId, () => markAttemptFailed(tx, d.id, outcome)),
      );
    this.log.warn(
      { ...context, statusCode: result.statusCode, error: result.error, retryAt },
      retryAt ? "webhook attempt failed; will retry" : "webhook delivery failed for good",
    );
    if (disabled)
      this.log.warn({ endpoint: d.endpointId, failingSince: disabled.failingSince }, "webhook endpoint auto-disabled");
  }

  private send(d: ClaimedDelivery): Promise<DeliveryResult> {
    return signAndSend(this.keys, this.secrets, { ...d, body: eventBody(d) }, this.settings.timeoutMs);
  }
}
