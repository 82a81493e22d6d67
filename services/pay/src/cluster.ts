/**
 * Several pay-server processes behind the one port (`MPAY_PAY_PROCESSES=N`, Node's cluster module). The primary
 * serves nothing: it forks the workers, each a whole pay server (main.ts) on the shared listening socket, which
 * the primary hands connections to. The first worker starts alone (it migrates the database and makes what a first
 * start makes), the others after it is ready; the primary says it is ready once all are.
 *
 * A worker that dies unexpectedly is forked again, after a backoff that doubles with every death in a row (0.5 s
 * up to 30 s; a worker that lived a minute resets it), so a crash loop does not spin. SIGTERM or SIGINT to the
 * primary is passed to every worker, which finishes its in-flight requests and closes (service-kit's
 * service-main.ts); the primary exits 0 once all have, 1 if one failed or they took longer than
 * FORCED_EXIT_MS. What the processes share lives in PostgreSQL (everything that matters) and, with REDIS_URL, in
 * Redis (the API limits' counters): docs/operations.md "Several pay-server processes". The primary also merges the
 * workers' metrics for `/metrics` (cluster-metrics.ts).
 */
import cluster, { type Worker } from "node:cluster";
import type { FastifyInstance } from "fastify";
import { serveClusterMetrics } from "./cluster-metrics.ts";

const FIRST_RESTART_MS = 500;
const MAX_RESTART_MS = 30_000;
/** A worker that lived this long was healthy: the next death starts the backoff over. */
const HEALTHY_AFTER_MS = 60_000;
/** Workers stop within their own 10 s; the primary waits a little longer for their exits. */
const FORCED_EXIT_MS = 12_000;

export interface PrimaryOptions {
  processes: number;
  /** Printed by the primary: a worker's failure line is printed by the worker itself. */
  write?: (line: string) => void;
}

/** A message a worker sends when it listens (service-kit's runServiceMain). */
function isReady(message: unknown): message is { ready: true; url: string } {
  return typeof message === "object" && message !== null && (message as { ready?: unknown }).ready === true;
}

/** Runs the cluster's primary: see the file's comment. Resolves once every worker is ready. */
export async function runPrimary(options: PrimaryOptions): Promise<void> {
  const write = options.write ?? ((line) => process.stderr.write(line));
  let stopping = false;
  let url = "";
  let deathsInARow = 0;
  const startedAt = new Map<Worker, number>();
  /** Workers that said they are ready: only they have a graceful stop to fail; one still starting just ends. */
  const ready = new Set<Worker>();
  const living = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  // A worker's GET /metrics asks here for every ready worker's metrics, merged (cluster-metrics.ts).
  serveClusterMetrics(() => living().filter((worker) => ready.has(worker)), write);

  const fork = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      startedAt.set(worker, Date.now());
      const onMessage = (message: unknown) => {
        if (!isReady(message)) return;
        url = message.url;
        ready.add(worker);
        worker.off("exit", onEarlyExit);
        resolve(worker);
      };
      const onEarlyExit = (code: number | null) => reject(new Error(`worker exited with ${code} before it was ready`));
      worker.on("message", onMessage);
      worker.once("exit", onEarlyExit);
    });

  cluster.on("exit", (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
    startedAt.delete(worker);
    if (stopping || !url) return; // shutting down, or still starting (the start fails instead)
    deathsInARow = lived >= HEALTHY_AFTER_MS ? 1 : deathsInARow + 1;
    const delay = Math.min(MAX_RESTART_MS, FIRST_RESTART_MS * 2 ** (deathsInARow - 1));
    write(
      `pay server worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another in ${delay} ms\n`,
    );
    setTimeout(() => {
      if (stopping) return;
      fork().catch((error: unknown) => {
        if (!stopping) write(`pay server worker failed to start: ${String(error)}\n`); // its next death forks again
      });
    }, delay).unref();
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      stopping = true;
      const workers = living();
      setTimeout(() => process.exit(1), FORCED_EXIT_MS).unref();
      let failed = false;
      let left = workers.length;
      if (left === 0) process.exit(0);
      for (const worker of workers) {
        worker.once("exit", (code) => {
          failed ||= ready.has(worker) && code !== 0;
          if (--left === 0) process.exit(failed ? 1 : 0);
        });
        worker.process.kill("SIGTERM"); // not SIGINT: a terminal's Ctrl-C already sent the workers that one
      }
    });
  }

  try {
    // The first alone: it migrates and makes what a first start makes; then the rest together.
    await fork();
    await Promise.all(Array.from({ length: options.processes - 1 }, fork));
  } catch {
    // The worker printed why; its siblings are stopped and the primary fails as a single server would.
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    process.exit(1);
  }
  write(`MPay pay server: ${options.processes} processes on ${url} (primary ${process.pid})\n`);
  process.send?.({ ready: true, url, processes: options.processes });
}

/**
 * Outside production, a cluster worker names itself in `MPay-Process` (its pid) on every answer, so that a test or
 * an operator can see which process answered. Never in production: a pid tells a stranger nothing useful, but an
 * answer carries nothing it does not need.
 */
export function workerProcessHeader(app: FastifyInstance, env: NodeJS.ProcessEnv = process.env): void {
  if (!cluster.isWorker || env["NODE_ENV"] === "production") return;
  const pid = String(process.pid);
  app.addHook("onSend", async (_request, reply) => {
    reply.header("mpay-process", pid);
  });
}
