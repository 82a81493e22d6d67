/**
 * Where each part of MPay is, computed once from the environment by every process that needs to know: each service
 * for itself and for the others, `npm start` and `npm run demo`. So one set of variables moves a service and
 * everyone follows: with `MESSENGER_PORT=4210` the messenger listens there, calls itself
 * `http://127.0.0.1:4210`, and the pay server signs payers in there (issue 8: before, the pay server kept looking
 * at 4200 and the messenger kept sending payers back to 4000).
 *
 * A service's URL is its `*_URL` variable when set (a proxy, another machine), else `http://<host>:<port>` from
 * its own host and port variables (a host of 0.0.0.0 or :: listens everywhere and is reached at 127.0.0.1).
 * Every port, set or derived, must be one that browsers and fetch connect to (bad-ports.ts).
 *
 * The web app's default URL names the host `localhost`, not 127.0.0.1, though its server listens on 127.0.0.1
 * (WEB_HOST): the wallet's passkeys belong to the web app's host name, and browsers refuse an IP address as a
 * passkey's relying party (relying-party.ts). Browsers resolve `localhost` to the loopback address themselves
 * (and treat it as a secure context), so the page reaches the same server.
 */
import { ConfigError, envPort, envUrl, type Env } from "./env.ts";

export type ServiceName = "pay" | "issuer" | "messenger";

export interface SystemAddresses {
  /** Where each service listens. 0 lets the system pick a free port (tests). */
  ports: Record<ServiceName, number>;
  /** Where each service is reached, without a trailing slash; `web` is the wallet's and hosted checkout's app. */
  urls: Record<ServiceName | "web", string>;
  /** Which URLs a `*_URL` variable set (else they follow host and port). */
  explicit: Record<ServiceName | "web", boolean>;
}

/** The variables, for documentation and for messages: every one is optional. */
export const SYSTEM_VARIABLES = {
  pay: { host: "PAY_HOST", port: "PAY_PORT", url: "MPAY_PUBLIC_URL", defaultPort: 4000 },
  issuer: { host: "ISSUER_HOST", port: "ISSUER_PORT", url: "MPAY_ISSUER_URL", defaultPort: 4100 },
  messenger: { host: "MESSENGER_HOST", port: "MESSENGER_PORT", url: "MESSENGER_ISSUER", defaultPort: 4200 },
  web: { url: "MPAY_WEB_URL", default: "http://localhost:4300" },
} as const;

/** The pay server's older name for MESSENGER_ISSUER, still read; both set to different URLs is refused. */
export const MESSENGER_URL_ALIAS = "MPAY_MESSENGER_ISSUER";

const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]"]);

/** How a process on this machine reaches a service listening on `host`. */
function reachableHost(host: string | undefined): string {
  if (!host || WILDCARD_HOSTS.has(host)) return "127.0.0.1";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** The port of `service`: its variable (the pay server also reads PORT, as platforms set it), else the default. */
function portOf(env: Env, service: ServiceName): number {
  const { port, defaultPort } = SYSTEM_VARIABLES[service];
  if (service === "pay" && !env[port]) return envPort(env, "PORT", defaultPort);
  return envPort(env, port, defaultPort);
}

function messengerUrlVariable(env: Env): string {
  const own = env[SYSTEM_VARIABLES.messenger.url];
  const alias = env[MESSENGER_URL_ALIAS];
  if (own && alias && own.replace(/\/+$/, "") !== alias.replace(/\/+$/, "")) {
    throw new ConfigError(
      MESSENGER_URL_ALIAS,
      `${SYSTEM_VARIABLES.messenger.url} and ${MESSENGER_URL_ALIAS} name the messenger twice, differently (${JSON.stringify(own)}, ${JSON.stringify(alias)}): set one`,
    );
  }
  return own ? SYSTEM_VARIABLES.messenger.url : alias ? MESSENGER_URL_ALIAS : SYSTEM_VARIABLES.messenger.url;
}

/** Every service's port and URL from `env`; a ConfigError names the variable that cannot be used and why. */
export function systemAddresses(env: Env = process.env): SystemAddresses {
  const ports = { pay: portOf(env, "pay"), issuer: portOf(env, "issuer"), messenger: portOf(env, "messenger") };
  const urlVariables = {
    pay: SYSTEM_VARIABLES.pay.url,
    issuer: SYSTEM_VARIABLES.issuer.url,
    messenger: messengerUrlVariable(env),
  };
  const follow = (service: ServiceName) =>
    `http://${reachableHost(env[SYSTEM_VARIABLES[service].host])}:${ports[service]}`;
  return {
    ports,
    urls: {
      pay: envUrl(env, urlVariables.pay, follow("pay")),
      issuer: envUrl(env, urlVariables.issuer, follow("issuer")),
      messenger: envUrl(env, urlVariables.messenger, follow("messenger")),
      web: envUrl(env, SYSTEM_VARIABLES.web.url, SYSTEM_VARIABLES.web.default),
    },
    explicit: {
      pay: Boolean(env[urlVariables.pay]),
      issuer: Boolean(env[urlVariables.issuer]),
      messenger: Boolean(env[urlVariables.messenger]),
      web: Boolean(env[SYSTEM_VARIABLES.web.url]),
    },
  };
}

/** Shorthand: just the URLs. */
export function systemUrls(env: Env = process.env): SystemAddresses["urls"] {
  return systemAddresses(env).urls;
}
