/**
 * The life of a service process, the same for the pay server, the issuer host and the messenger: read the
 * configuration and listen; on a problem print one line (no stack to scroll through) and exit 1; once it
 * listens, print where (the service's `started`), and tell a parent (`npm start`, a test) `{ ready, url }` over
 * IPC; on SIGINT or SIGTERM stop accepting, finish in-flight requests, close in order, and exit 0 — or 1 when
 * closing fails or takes longer than 10 s.
 */

/** What a service's `start…()` returns. */
export interface RunningService {
  /** Where it listens, e.g. http://127.0.0.1:4000. */
  url: string;
  /** Stops accepting, finishes in-flight requests, closes what it opened; the same promise on every call. */
  stop(): Promise<void>;
}

export interface ServiceMainOptions<S extends RunningService> {
  /** As the failure line names it: "pay server failed to start: …". */
  name: string;
  /** Reads the configuration and listens. */
  start(): Promise<S>;
  /** Once it listens, before it says it is ready: what the operator reads (the address, the database, …). */
  started?(service: S): Promise<void> | void;
  /** Logs the signal that stops the service, through its own logger. */
  stopping(service: S, signal: NodeJS.Signals): void;
}

const FORCED_EXIT_MS = 10_000;

function oneLine(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs a service as its process's main: see the file's comment. Resolves once it is ready. */
export async function runServiceMain<S extends RunningService>(options: ServiceMainOptions<S>): Promise<S> {
  let service: S | undefined;
  try {
    service = await options.start();
    await options.started?.(service);
  } catch (error) {
    // A configuration, key or database problem: one clear line. What the service opened is closed first.
    process.stderr.write(`${options.name} failed to start: ${oneLine(error)}\n`);
    await service?.stop().catch(() => undefined);
    process.exit(1);
  }
  const running = service;
  process.send?.({ ready: true, url: running.url });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      options.stopping(running, signal);
      const force = setTimeout(() => process.exit(1), FORCED_EXIT_MS);
      force.unref();
      running.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
  return running;
}

/** The URL a server listens on: the port it actually bound (the configured one may be 0, any free port). */
export function listeningUrl(host: string, address: string | { port: number } | null, configuredPort: number): string {
  const port = typeof address === "object" && address ? address.port : configuredPort;
  return `http://${host}:${port}`;
}

/**
 * A `stop()` that runs `steps` once, in order (stop the timers, close the HTTP server so in-flight requests finish,
 * then the database), and gives every caller the same promise.
 */
export function stopInOrder(...steps: Array<() => unknown>): () => Promise<void> {
  let stopping: Promise<void> | null = null;
  return () => {
    stopping ??= (async () => {
      for (const step of steps) await step();
    })();
    return stopping;
  };
}
