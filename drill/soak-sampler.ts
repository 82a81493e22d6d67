/**
 * What the soak drill samples every few seconds: the pay server's own /metrics (prom-client's default process
 * metrics and the outbox gauges), PostgreSQL's connections to the pay database (pg_stat_activity, the sampler's
 * own excluded), and the load's payments in the window (count and p99 of a payment's whole life).
 */
import pg from "pg";

/** Metric values of a Prometheus text answer, by name with its labels as written (`name{a="b"}`). */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (match) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

/** The names the sampler reads: a test checks the pay server still exposes each. */
export const SAMPLED_METRICS = {
  rss: "process_resident_memory_bytes",
  heap: "nodejs_heap_size_used_bytes",
  /** Buffers and WebAssembly memory (OPAQUE's, Argon2id's): outside the V8 heap, inside RSS. */
  external: "nodejs_external_memory_bytes",
  /** Reset at each scrape by prom-client: the p99 since the previous sample. */
  loopP99: "nodejs_eventloop_lag_p99_seconds",
  unpublished: "mpay_events_unpublished",
  pendingDeliveries: 'mpay_webhook_deliveries{status="pending"}',
} as const;

export interface ServerSample {
  rssBytes: number;
  heapBytes: number;
  externalBytes: number;
  loopP99Seconds: number;
  /** Pending webhook deliveries + events not yet on NATS. */
  outbox: number;
}

export async function sampleServer(payUrl: string): Promise<ServerSample> {
  const answer = await fetch(`${payUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!answer.ok) throw new Error(`/metrics answered ${answer.status}`);
  const m = parseMetrics(await answer.text());
  const read = (name: string) => {
    const v = m.get(name);
    if (v === undefined) throw new Error(`the pay server's /metrics has no ${name}`);
    return v;
  };
  return {
    rssBytes: read(SAMPLED_METRICS.rss),
    heapBytes: read(SAMPLED_METRICS.heap),
    externalBytes: read(SAMPLED_METRICS.external),
    loopP99Seconds: read(SAMPLED_METRICS.loopP99),
    // A fresh server has no pending row yet: the labelled gauge appears at its first scrape with rows.
    outbox: read(SAMPLED_METRICS.unpublished) + (m.get(SAMPLED_METRICS.pendingDeliveries) ?? 0),
  };
}

/** The pay database's connections, one client of the drill's own (not counted). */
export class ConnectionCounter {
  private constructor(private readonly client: pg.Client) {}

  static async open(databaseUrl: string): Promise<ConnectionCounter> {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: "mpay-soak-sampler" });
    await client.connect();
    return new ConnectionCounter(client);
  }

  async count(): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>(
      "select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
    );
    return Number(rows[0]?.n ?? 0);
  }

  close(): Promise<void> {
    return this.client.end();
  }
}

/** The p-th percentile (0–100) of values, nearest rank; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
