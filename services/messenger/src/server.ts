/**
 * Starts the messenger: opens the system, loads (or makes, on first start) the provider's keys and the clients'
 * secrets, binds the port, attaches the OpenID Connect provider for the issuer, and sweeps expired state. `stop()`
 * stops accepting, finishes in-flight requests and closes the database.
 */
import type { FastifyInstance } from "fastify";
import type { Provider } from "oidc-provider";
import { listeningUrl, stopInOrder, type RunningService } from "@mpay/service-kit";
import { buildApp } from "./app.ts";
import { loadConfig, type MessengerConfig } from "./config.ts";
import { createLogger, openMessengerSystem, type MessengerSystem } from "./system.ts";
import { loadProviderSecrets } from "./oidc/secrets.ts";
import { resolveClients } from "./oidc/clients.ts";
import type { Logger } from "pino";

/** `url`: where it listens, e.g. http://127.0.0.1:4200. */
export interface RunningMessenger extends RunningService {
  system: MessengerSystem;
  app: FastifyInstance;
  provider: Provider;
  issuer: string;
  /** The pay client's credentials file, when the embedded default made or reused one. */
  secretFile: string | undefined;
}

export async function startMessenger(
  config: MessengerConfig = loadConfig(),
  log: Logger = createLogger(config.logLevel),
): Promise<RunningMessenger> {
  const system = await openMessengerSystem(config, log);
  let sweeper: NodeJS.Timeout | undefined;
  try {
    const [secrets, resolved] = await Promise.all([
      loadProviderSecrets(system.database.db, config.cookieKeys),
      resolveClients(config),
    ]);
    const { app, attachProvider } = await buildApp(system, { secrets, clients: resolved.clients });
    await app.listen({ host: config.host, port: config.port });
    const url = listeningUrl(config.host, app.server.address(), config.port);
    const issuer = config.issuer ?? url;
    const provider = attachProvider(issuer);
    sweeper = setInterval(() => {
      system
        .sweep()
        .catch((error: unknown) =>
          log.warn({ err: error instanceof Error ? error.message : String(error) }, "sweep failed"),
        );
    }, config.sweepIntervalMs);
    sweeper.unref();
    return {
      system,
      app,
      provider,
      url,
      issuer,
      secretFile: resolved.secretFile,
      stop: stopInOrder(
        () => clearInterval(sweeper),
        () => app.close(),
        () => system.close(),
      ),
    };
  } catch (error) {
    clearInterval(sweeper);
    await system.close();
    throw error;
  }
}
