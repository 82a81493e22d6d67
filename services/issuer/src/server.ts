/**
 * Starts the issuer host: opens every issuer (keys, database, test cards), binds the port, and runs the sweep
 * (expired nonces, old enrollment events, yesterday's settlement files) at start and then periodically. `stop()`
 * stops accepting, finishes in-flight requests and closes the databases.
 */
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { listeningUrl, stopInOrder, type RunningService } from "@mpay/service-kit";
import { buildApp } from "./app.ts";
import { loadConfig, type IssuerHostConfig } from "./config.ts";
import { createLogger, openIssuerHost, type HostOptions, type IssuerHost } from "./host.ts";

/** `url`: where it listens, e.g. http://127.0.0.1:4100. */
export interface RunningIssuerHost extends RunningService {
  host: IssuerHost;
  app: FastifyInstance;
}

export async function startIssuerHost(
  config: IssuerHostConfig = loadConfig(),
  log: Logger = createLogger(config.logLevel),
  options: HostOptions = {},
): Promise<RunningIssuerHost> {
  const host = await openIssuerHost(config, log, options);
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = () =>
    host
      .sweep()
      .catch((error: unknown) =>
        log.warn({ err: error instanceof Error ? error.message : String(error) }, "sweep failed"),
      );
  try {
    const app = await buildApp(host);
    await app.listen({ host: config.host, port: config.port });
    const url = listeningUrl(config.host, app.server.address(), config.port);
    void sweep();
    sweeper = setInterval(() => void sweep(), config.sweepIntervalMs);
    sweeper.unref();
    return {
      host,
      app,
      url,
      stop: stopInOrder(
        () => clearInterval(sweeper),
        () => app.close(),
        () => host.close(),
      ),
    };
  } catch (error) {
    clearInterval(sweeper);
    await host.close();
    throw error;
  }
}
