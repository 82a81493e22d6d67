/**
 * Dead endpoints (issue 12, "Webhooks to dead endpoints"). An endpoint whose every attempt has failed for
 * AUTO_DISABLE_AFTER_MS, with no success since the first of those failures, is disabled by itself: its pending
 * deliveries end failed, a `webhook_endpoint.disabled` event tells the merchant (recorded in the events list and
 * sent to its other endpoints: the dead one cannot hear it), and the audit log says why. Any success stops the clock.
 * Stripe does the same after days of failures; without it a dead URL costs an attempt an hour per event for ever.
 */
import type { Clock } from "@mpay/service-kit";
import type { AuditService } from "../audit/service.ts";
import type { Executor } from "../db/client.ts";
import { emitEvent } from "./events.ts";
import {
  autoDisableEndpoint,
  clearEndpointFailure,
  failPendingDeliveries,
  noteEndpointFailure,
  type EndpointRow,
} from "./store.ts";

/** How long an endpoint may fail without a single success before it is disabled: the retry horizon, 3 days. */
export const AUTO_DISABLE_AFTER_MS = 3 * 86_400_000;

/** The type of the event that tells a merchant one of its endpoints was disabled for failing. */
export const ENDPOINT_DISABLED_EVENT = "webhook_endpoint.disabled";

export class EndpointHealth {
  constructor(
    private readonly audit: AuditService,
    /** The clock the worker schedules retries by and failing-since is measured on. */
    readonly clock: Clock,
    private readonly disableAfterMs = AUTO_DISABLE_AFTER_MS,
  ) {}

  /**
   * An attempt to the endpoint succeeded: it is not failing (any more). `recordAttempt` writes the delivery's
   * outcome after the endpoint row: the order a merchant's disable takes them in (endpoint, then its pending
   * deliveries), so the two never wait on each other in a deadlock.
   */
  async succeeded(
    tx: Executor,
    endpointId: string,
    recordAttempt: () => Promise<void> = async () => {},
  ): Promise<void> {
    await clearEndpointFailure(tx, endpointId);
    await recordAttempt();
  }

  /**
   * An attempt failed: starts the failing-since clock, records the attempt (`recordAttempt`, after the endpoint
   * row as in `succeeded`), and disables the endpoint once that clock has run disableAfterMs, ending the delivery
   * just recorded with its other pending ones. Answers the endpoint when this call disabled it.
   */
  async failed(tx: Executor, endpointId: string, recordAttempt: () => Promise<void>): Promise<EndpointRow | null> {
    const now = this.clock.now();
    const endpoint = await noteEndpointFailure(tx, endpointId, now);
    await recordAttempt();
    if (!endpoint?.failingSince || endpoint.status !== "enabled") return null;
    if (now.getTime() - endpoint.failingSince.getTime() < this.disableAfterMs) return null;
    const disabled = await autoDisableEndpoint(tx, endpointId, now);
    if (!disabled) return null;
    const failingSince = endpoint.failingSince.toISOString();
    await failPendingDeliveries(tx, endpointId, `endpoint disabled: failing since ${failingSince}`);
    const facts = { reason: "auto_disabled", disabledAt: now.toISOString(), failingSince };
    await emitEvent(tx, {
      merchantId: disabled.merchantId,
      mode: disabled.mode,
      type: ENDPOINT_DISABLED_EVENT,
      data: { webhookEndpoint: { id: disabled.id, url: disabled.url, ...facts } },
    });
    await this.audit.append(tx, {
      actor: "system",
      action: "webhook_endpoint.disabled",
      target: endpointId,
      data: { mode: disabled.mode, url: disabled.url, ...facts },
    });
    return disabled;
  }
}
