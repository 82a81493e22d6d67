/**
 * Configuration from the environment, read once at start. Every variable is optional: with none set, the messenger
 * runs on 127.0.0.1:4200 with PGlite under `.data/messenger/db`, and makes the pay server's client secret itself.
 */
import { join, resolve } from "node:path";
import { Secret, WS_HELLO_TIMEOUT_MS } from "@mpay/protocol";
import {
  clockFromEnv,
  ConfigError,
  envInt as int,
  parseHttpUrl as httpUrl,
  splitList as list,
  systemAddresses,
  type Clock,
} from "@mpay/service-kit";

/** An OpenID Connect client registered statically (no dynamic registration). */
export interface ClientConfig {
  clientId: string;
  /** Undefined only for the pay client in the embedded default: the system then makes one in the data folder. */
  clientSecret: Secret<string> | undefined;
  redirectUris: string[];
  /** Shown on the login and consent pages. */
  name: string;
  /** Operated by MPay itself: consent is granted inside the interaction without a consent screen. */
  firstParty: boolean;
}

export interface LoginLimits {
  /** Failed sign-ins per phone number within the window before that number is refused for the rest of it. */
  perPhone: number;
  /** Failed sign-ins per client IP address within the window. */
  perIp: number;
  windowSeconds: number;
}

/**
 * An official account (the "MPay" account) that a registered client may post messages as. Its sender
 * authenticates with that client's id and secret, the ones it already has as an OpenID Connect client.
 */
export interface OfficialAccountConfig {
  /** In URLs and as the scheme its buttons' actions must use (`mpay:…`). */
  handle: string;
  /** Shown as the sender. */
  name: string;
  /** The registered client that operates it. */
  clientId: string;
}

/** Limits of the messenger app's chats, each claimed per account before the work (service-kit's LimitSlots). */
export interface ChatLimits {
  /** Messages an account may send within the window. */
  messagesPerWindow: number;
  messageWindowSeconds: number;
  /** Friends an account may add (phone-number lookups) within the window: the lookup must not enumerate accounts. */
  friendAddsPerWindow: number;
  friendAddWindowSeconds: number;
}

/** The live connection (`GET /api/ws`). Not environment variables: tests shorten them. */
export interface RealtimeTimings {
  /** Time the client has to send its hello frame. */
  helloTimeoutMs: number;
  /** Ping interval; a connection that did not answer the previous ping is dropped. */
  pingIntervalMs: number;
}

export interface MessengerConfig {
  host: string;
  /** 0 picks a free port (tests); the issuer then follows from the port actually bound. */
  port: number;
  /** Issuer identifier; undefined → `http://<host>:<bound port>`. */
  issuer: string | undefined;
  /** PostgreSQL URL; undefined → PGlite. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Where PGlite keeps its files; undefined → in memory (tests). */
  embeddedDatabaseDir: string | undefined;
  dbPoolSize: number;
  logLevel: string;
  clients: ClientConfig[];
  /** Keys that sign the provider's cookies (first one signs); undefined → made once and kept in the database. */
  cookieKeys: Secret<string[]> | undefined;
  /** Trust `X-Forwarded-For`/`-Proto` from a TLS-terminating proxy in front of the messenger. */
  trustProxy: boolean;
  loginLimits: LoginLimits;
  /** Account creations per minute per IP, on each of the JSON API and the sign-up page. */
  signupRateLimitPerMinute: number;
  /** How often expired provider rows and old sign-in attempts are deleted. */
  sweepIntervalMs: number;
  /** How long a messenger app session (`POST /api/sessions`) lasts. */
  appSessionTtlSeconds: number;
  officialAccounts: OfficialAccountConfig[];
  /** The web app's origin (`MPAY_WEB_URL`): the only origin the app API answers CORS for. */
  webOrigin: string;
  chatLimits: ChatLimits;
  realtime: RealtimeTimings;
  /** The clock the sign-in limits read: the system's, or with MESSENGER_TEST_CLOCK_FILE a drill's file clock. */
  clock: Clock;
}

export const PAY_CLIENT_ID = "mpay-pay";
/** Where the messenger sends a payer back to: the pay server's callback (its URL follows PAY_PORT or MPAY_PUBLIC_URL). */
export const PAY_CALLBACK_PATH = "/v1/payer/auth/callback";
/** The embedded default's pay client credentials live here (mode 0600), for the pay server to read in development. */
export const PAY_CLIENT_FILE = "pay-client.json";

function redirectUris(raw: string | undefined, payUrl: string): string[] {
  const uris = list(raw);
  if (uris.length === 0) return [`${payUrl}${PAY_CALLBACK_PATH}`];
  for (const uri of uris) {
    const parsed = httpUrl(uri);
    if (!parsed || parsed.hash) {
      throw new ConfigError(
        "MESSENGER_PAY_REDIRECT_URIS",
        `MESSENGER_PAY_REDIRECT_URIS must be absolute http(s) URLs without a fragment, got ${JSON.stringify(uri)}`,
      );
    }
  }
  return uris;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): MessengerConfig {
  const host = env["MESSENGER_HOST"] ?? "127.0.0.1";
  // Where every service is, from the variables every MPay process reads the same way (service-kit/config).
  const { ports, urls, explicit } = systemAddresses(env);
  const port = ports.messenger;
  const dataDir = resolve(env["MESSENGER_DATA_DIR"] ?? ".data/messenger");
  // Port 0 (tests): the issuer follows the port actually bound (server.ts).
  const issuer = explicit.messenger || port !== 0 ? urls.messenger : undefined;
  // The provider's routes are served from the root (/oidc/…, /.well-known/…): an issuer with a path would name
  // endpoints this server does not answer.
  const issuerUrl = issuer === undefined ? undefined : httpUrl(issuer);
  if (issuer !== undefined && (!issuerUrl || issuerUrl.pathname !== "/" || issuerUrl.search || issuerUrl.hash)) {
    throw new ConfigError(
      "MESSENGER_ISSUER",
      `MESSENGER_ISSUER must be an http(s) origin without a path, got ${JSON.stringify(issuer)}`,
    );
  }
  const secret = env["MESSENGER_PAY_CLIENT_SECRET"];
  if (secret !== undefined && secret !== "" && secret.length < 32) {
    throw new ConfigError(
      "MESSENGER_PAY_CLIENT_SECRET",
      "MESSENGER_PAY_CLIENT_SECRET must be at least 32 characters (for example 32 random bytes in base64url)",
    );
  }
  const payClientId = env["MESSENGER_PAY_CLIENT_ID"] || PAY_CLIENT_ID;
  const cookieKeys = list(env["MESSENGER_COOKIE_KEYS"]);
  if (cookieKeys.some((key) => key.length < 32))
    throw new ConfigError(
      "MESSENGER_COOKIE_KEYS",
      "MESSENGER_COOKIE_KEYS must be comma-separated keys of at least 32 characters each",
    );
  return {
    host,
    port,
    issuer: issuerUrl?.origin,
    databaseUrl: env["MESSENGER_DATABASE_URL"] || undefined,
    dataDir,
    embeddedDatabaseDir: join(dataDir, "db"),
    dbPoolSize: int(env, "MESSENGER_DB_POOL", 5, 1),
    logLevel: env["LOG_LEVEL"] ?? "info",
    clients: [
      {
        clientId: payClientId,
        clientSecret: secret ? new Secret(secret) : undefined,
        redirectUris: redirectUris(env["MESSENGER_PAY_REDIRECT_URIS"], urls.pay),
        name: "MPay",
        firstParty: true,
      },
    ],
    cookieKeys: cookieKeys.length > 0 ? new Secret(cookieKeys) : undefined,
    trustProxy: env["MESSENGER_TRUST_PROXY"] === "1" || env["MESSENGER_TRUST_PROXY"] === "true",
    loginLimits: {
      perPhone: int(env, "MESSENGER_LOGIN_FAILURES_PER_PHONE", 5, 1),
      perIp: int(env, "MESSENGER_LOGIN_FAILURES_PER_IP", 50, 1),
      windowSeconds: int(env, "MESSENGER_LOGIN_WINDOW_SECONDS", 15 * 60, 1),
    },
    signupRateLimitPerMinute: int(env, "MESSENGER_SIGNUP_RATE_LIMIT_PER_MINUTE", 20, 1),
    sweepIntervalMs: int(env, "MESSENGER_SWEEP_INTERVAL_MS", 10 * 60_000, 1000),
    appSessionTtlSeconds: int(env, "MESSENGER_APP_SESSION_TTL_SECONDS", 30 * 86_400, 60),
    // The pay server posts MPay's notices with the client credentials it signs payers in with.
    officialAccounts: [{ handle: "mpay", name: "MPay", clientId: payClientId }],
    webOrigin: new URL(urls.web).origin,
    chatLimits: {
      messagesPerWindow: int(env, "MESSENGER_CHAT_MESSAGES_PER_WINDOW", 30, 1),
      messageWindowSeconds: int(env, "MESSENGER_CHAT_MESSAGE_WINDOW_SECONDS", 10, 1),
      friendAddsPerWindow: int(env, "MESSENGER_FRIEND_ADDS_PER_WINDOW", 20, 1),
      friendAddWindowSeconds: int(env, "MESSENGER_FRIEND_ADD_WINDOW_SECONDS", 3600, 1),
    },
    realtime: { helloTimeoutMs: WS_HELLO_TIMEOUT_MS, pingIntervalMs: 25_000 },
    clock: clockFromEnv(env, "MESSENGER"),
  };
}
