/**
 * The pay server's connector from its issuer settings: the simulator connector at the default host for every
 * issuer, and one per issuer that has a host of its own (its URL, acquirer secret and timeout).
 */
import type { IssuerConnector } from "./connector.ts";
import { IssuerRegistry } from "./registry.ts";
import { acquirerSecretOf, type IssuerSettings } from "./settings.ts";
import { SimulatorConnector } from "./simulator/connector.ts";

export function issuerRegistry(settings: IssuerSettings): IssuerConnector {
  const fallback = new SimulatorConnector({
    baseUrl: settings.url,
    acquirerSecret: () => acquirerSecretOf(settings),
    timeoutMs: settings.timeoutMs,
  });
  const hosts = settings.hosts ?? [];
  if (hosts.length === 0) return fallback;
  const own = new Map<string, IssuerConnector>(
    hosts.map((host) => [
      host.issuerId,
      new SimulatorConnector({
        baseUrl: host.url,
        acquirerSecret: () => acquirerSecretOf(host),
        timeoutMs: host.timeoutMs,
      }),
    ]),
  );
  return new IssuerRegistry(own, fallback);
}
