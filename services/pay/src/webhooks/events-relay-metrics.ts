/**
 * The outbox as Prometheus gauges, read at each scrape: `mpay_events_unpublished` (events the relay has still to
 * publish to NATS JetStream; 0 without NATS_URL, where nothing is to be published) and
 * `mpay_webhook_deliveries{status}` (pending: to be sent or retried; failed: given up). An outbox that keeps
 * growing means its worker no longer keeps up (the soak drill watches both). app.ts owns the registry. Both read the
 * database, so every pay-server process of a cluster reads the same numbers: merged by `max`, never summed.
 */
import { Gauge, type Registry } from "prom-client";
import type { EventsRelay } from "./events-relay.ts";
import type { WebhookService } from "./service.ts";

export function registerOutboxGauges(registry: Registry, relay: EventsRelay | null, webhooks: WebhookService): void {
  new Gauge({
    name: "mpay_events_unpublished",
    help: "Events waiting to be published to NATS JetStream (0 without NATS_URL)",
    registers: [registry],
    aggregator: "max",
    async collect() {
      this.set(relay ? await relay.backlog() : 0);
    },
  });
  new Gauge({
    name: "mpay_webhook_deliveries",
    help: "Webhook deliveries in the outbox: pending (to be sent or retried) and failed (retries ended)",
    labelNames: ["status"],
    registers: [registry],
    aggregator: "max",
    async collect() {
      for (const row of await webhooks.backlog()) this.set({ status: row.status }, row.count);
    },
  });
}
