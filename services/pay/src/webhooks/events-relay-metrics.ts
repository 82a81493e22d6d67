/**
 * `mpay_events_unpublished`: events the relay has still to publish to NATS JetStream, read at each scrape. Without
 * NATS_URL nothing is to be published and it reads 0. app.ts owns the registry: it calls this once with it.
 */
import { Gauge, type Registry } from "prom-client";
import type { EventsRelay } from "./events-relay.ts";

export function registerEventsBacklogGauge(registry: Registry, relay: EventsRelay | null): Gauge {
  return new Gauge({
    name: "mpay_events_unpublished",
    help: "Events waiting to be published to NATS JetStream (0 without NATS_URL)",
    registers: [registry],
    async collect() {
      this.set(relay ? await relay.backlog() : 0);
    },
  });
}
