/**
 * The circuit breakers as a Prometheus gauge: `mpay_issuer_breaker_state{issuer}` 0 closed, 1 half open, 2 open,
 * read at each scrape. app.ts owns the registry: it calls this once with it. Each pay-server process has its own
 * breakers: a cluster's /metrics shows the worst of them (`max`), not a sum that would read as no state at all.
 */
import { Gauge, type Registry } from "prom-client";
import type { BreakerState } from "./breaker.ts";
import type { IssuerService } from "./service.ts";

const LEVEL: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export function registerIssuerBreakerGauge(registry: Registry, issuers: IssuerService): Gauge {
  return new Gauge({
    name: "mpay_issuer_breaker_state",
    help: "Each card issuer's circuit breaker: 0 closed, 1 half open (a probe is due or in flight), 2 open (failing fast)",
    labelNames: ["issuer"],
    registers: [registry],
    aggregator: "max",
    collect() {
      this.reset();
      for (const { issuerId, state } of issuers.breakerStates()) this.set({ issuer: issuerId }, LEVEL[state]);
    },
  });
}
