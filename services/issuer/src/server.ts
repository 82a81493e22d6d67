/**
 * Starts the issuer host: opens every issuer (keys, database, test cards), binds the port, and runs the sweep
 * (expired nonces, old enrollment events, yesterday's settlement files) at start and then periodically. `stop()`
 * stops accepting, finishes in-flight requests and closes the databases.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { buildApp } from "./app.ts";
import { loadConfig, type IssuerHostConfig } from "./config.ts";
import { createLogger, openIssuerHost, type HostOptions, type IssuerHost } from "./host.ts";

export interface RunningIssuerHost {
  host: IssuerHost;
  app: FastifyInstance;
  /** Where it listens, e.g. http://127.0.0.1:4100. */
  url: string;
  stop(): Promise<void>;
}

export async function startIssuerHost(config: IssuerHostConfig = loadConfig(), log: Logger = createLogger(config.logLevel), options: HostOptions = {}): Promise<RunningIssuerHost> {
  const host = await openIssuerHost(config, log, options);
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = () => host.sweep().catch((error: unknown) => log.warn({ err: error instanceof Error ? error.message : String(error) }, "sweep failed"));
  try {
    const app = await buildApp(host);
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    void sweep();
    sweeper = setInterval(() => void sweep(), config.sweepIntervalMs);
    sweeper.unref();
    let stopping: Promise<void> | null = null;
    return {
      host,
      app,
      url: `http://${config.host}:${port}`,
      stop() {
        stopping ??= (async () => {
          clearInterval(sweeper);
          await app.close();
          await host.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    clearInterval(sweeper);
    await host.close();
    throw error;
  }
}
