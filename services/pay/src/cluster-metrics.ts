/**
 * `/metrics` of a cluster (MPAY_PAY_PROCESSES > 1) answers for every worker, not for whichever one a scrape reached.
 * Only workers listen on the port, so the worker that gets the scrape asks the primary over IPC; the primary asks
 * each ready worker for its registry as JSON and merges them with prom-client's `AggregatorRegistry.aggregate`:
 * counters and histograms are summed, a gauge by its own `aggregator` (the outbox gauges read the database, so
 * every worker reads the same number: `max`, never the sum), and the process metrics (memory, CPU, event loop)
 * carry a `worker` label (the cluster's worker id, never a pid) so each worker keeps its own series.
 *
 * A worker that did not answer within COLLECT_MS is left out of that scrape (logged by the primary): its counters
 * dip for one scrape, which Prometheus reads as a counter reset. The primary asks only workers that said they are
 * ready, so a worker still starting never holds a scrape up. Without the primary's answer (it is gone, or too slow)
 * the worker answers with its own metrics alone and logs why: a partial scrape beats an empty one.
 */
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";
import type { Logger } from "pino";
import { z } from "zod";

/** How long the primary waits for the workers' registries. */
const COLLECT_MS = 3_000;
/** How long a worker waits for the primary's aggregate: the primary's own wait and a margin. */
const ASK_PRIMARY_MS = COLLECT_MS + 1_000;

// The four IPC messages, each checked where it arrives (another process sent it).
const askPrimary = z.object({ type: z.literal("mpay:metrics:ask"), id: z.number() });
/** `text` null: the primary could not merge (it logged why). */
const primaryAnswer = z.object({
  type: z.literal("mpay:metrics:aggregate"),
  id: z.number(),
  text: z.string().nullable(),
});
const collect = z.object({ type: z.literal("mpay:metrics:collect"), id: z.number() });
/** `Registry.getMetricsAsJSON()` of one worker: what `AggregatorRegistry.aggregate` reads. */
const collected = z.object({
  type: z.literal("mpay:metrics:collected"),
  id: z.number(),
  metrics: z.array(
    z.looseObject({ name: z.string(), help: z.string(), type: z.string(), values: z.array(z.looseObject({})) }),
  ),
});

/**
 * A channel may close between the check and the send (the other process died): the error then comes to this
 * callback instead of an 'error' event that nothing listens to, and the caller's timeout covers the lost message.
 */
const ignoreClosedChannel = () => {};

/** In a cluster, the default metrics of a worker carry its id; none outside a cluster (a single process). */
export function processMetricLabels(): Record<string, string> {
  return cluster.isWorker && cluster.worker ? { worker: String(cluster.worker.id) } : {};
}

/** The primary's side: merges the ready workers' metrics for the worker that asks. */
export function serveClusterMetrics(readyWorkers: () => Worker[], write: (line: string) => void): void {
  let nextId = 0;
  /** Collections under way: the workers asked and the registries they sent so far. */
  const gathering = new Map<number, { asked: Worker[]; answers: Map<Worker, unknown[]>; done: () => void }>();

  cluster.on("message", (worker, message: unknown) => {
    const answer = collected.safeParse(message);
    if (answer.success) {
      const pending = gathering.get(answer.data.id);
      if (!pending?.asked.includes(worker)) return;
      pending.answers.set(worker, answer.data.metrics);
      if (pending.answers.size === pending.asked.length) pending.done();
      return;
    }
    const ask = askPrimary.safeParse(message);
    if (!ask.success) return;
    const reply = (text: string | null) => {
      if (worker.isConnected())
        worker.send({ type: "mpay:metrics:aggregate", id: ask.data.id, text }, ignoreClosedChannel);
    };
    gather().then(reply, (error: unknown) => {
      write(`pay server metrics: could not merge the workers' metrics: ${String(error)}\n`);
      reply(null);
    });
  });

  /** The merged metrics, or null when no worker answered (the asker then answers its own, as one process would). */
  async function gather(): Promise<string | null> {
    const id = nextId++;
    const asked = readyWorkers().filter((worker) => worker.isConnected());
    const answers = new Map<Worker, unknown[]>();
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        gathering.delete(id);
        resolve();
      };
      const timer = setTimeout(done, COLLECT_MS);
      gathering.set(id, { asked, answers, done });
      for (const worker of asked) worker.send({ type: "mpay:metrics:collect", id }, ignoreClosedChannel);
      if (asked.length === 0) done();
    });
    const silent = asked.filter((worker) => !answers.has(worker));
    if (silent.length > 0)
      write(
        `pay server metrics: worker ${silent.map((w) => w.id).join(", ")} did not answer within ${COLLECT_MS} ms; left out of this scrape\n`,
      );
    if (answers.size === 0) return null;
    return AggregatorRegistry.aggregate([...answers.values()]).metrics();
  }
}

export interface MetricsSource {
  contentType: string;
  /** The text a scrape gets. */
  metrics(): Promise<string>;
  /** Stops answering the primary (the app closes). */
  close(): void;
}

/**
 * What `/metrics` answers: outside a cluster the registry itself; in a worker the primary's aggregate of all
 * workers, and this worker answers the primary's collection with `registry`.
 */
export function metricsSource(registry: Registry, log: Logger): MetricsSource {
  const contentType = registry.contentType;
  if (!cluster.isWorker) return { contentType, metrics: () => registry.metrics(), close() {} };

  let nextId = 0;
  const waiting = new Map<number, (text: string | null) => void>();
  const onMessage = (message: unknown) => {
    const request = collect.safeParse(message);
    if (request.success) {
      registry.getMetricsAsJSON().then(
        (metrics) => {
          if (!process.connected) return;
          const reply = { type: "mpay:metrics:collected", id: request.data.id, metrics };
          process.send?.(reply, ignoreClosedChannel);
        },
        // A gauge that reads the database failed: the primary leaves this worker out of the scrape.
        (error: unknown) => log.warn({ err: String(error) }, "could not collect this worker's metrics"),
      );
      return;
    }
    const answer = primaryAnswer.safeParse(message);
    if (answer.success) waiting.get(answer.data.id)?.(answer.data.text);
  };
  process.on("message", onMessage);

  return {
    contentType,
    async metrics() {
      const id = nextId++;
      const aggregate = await new Promise<string | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), ASK_PRIMARY_MS);
        waiting.set(id, (text: string | null) => {
          clearTimeout(timer);
          resolve(text);
        });
        if (process.connected) process.send?.({ type: "mpay:metrics:ask", id }, ignoreClosedChannel);
        else {
          clearTimeout(timer);
          resolve(null);
        }
      });
      waiting.delete(id);
      if (aggregate !== null) return aggregate;
      log.warn("the cluster's primary did not answer for the metrics: this scrape holds this worker's alone");
      return registry.metrics();
    },
    close() {
      process.off("message", onMessage);
    },
  };
}
