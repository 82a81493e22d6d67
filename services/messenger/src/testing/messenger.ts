/**
 * A real messenger for a test: fresh database, temporary data folder, real HTTP on a free port (port 0, so the
 * issuer is whatever was bound), its log lines kept for the no-secrets checks. `restart()` stops it and starts it
 * again on the same database, port and data folder, as an operator's restart would; `stop()` and `start()` do the
 * same with time in between, during which the messenger is down (its port refuses connections).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Secret } from "@mpay/protocol";
import { loadConfig, PAY_CLIENT_ID, type ClientConfig, type MessengerConfig } from "../config.ts";
import { startMessenger, type RunningMessenger } from "../server.ts";
import { freshDatabase, type Backend, type FreshDatabase } from "./databases.ts";

export const PAY_REDIRECT = "http://127.0.0.1:4000/v1/payer/auth/callback";
export const SHOP_CLIENT_ID = "shop-third-party";
export const SHOP_REDIRECT = "https://shop.example/callback";
/** Markup in a client name: pages must show it as text. */
export const SHOP_NAME = `<b>Shop & "Co"</b>`;

export interface TestMessenger {
  readonly server: RunningMessenger;
  readonly url: string;
  readonly issuer: string;
  readonly config: MessengerConfig;
  readonly paySecret: string;
  readonly shopSecret: string;
  /** Every line the messenger logged, across restarts. */
  readonly logLines: string[];
  restart(): Promise<void>;
  /** Stops serving, keeping the database and data folder for `start()`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface TestMessengerOptions {
  /** Keep PGlite in a folder (needed to restart on the same database); default in memory. */
  persistent?: boolean;
  overrides?: Partial<MessengerConfig>;
}

export async function openTestMessenger(backend: Backend, options: TestMessengerOptions = {}): Promise<TestMessenger> {
  const database: FreshDatabase = await freshDatabase(backend);
  const dataDir = await mkdtemp(join(tmpdir(), "messenger-test-"));
  const paySecret = randomBytes(32).toString("base64url");
  const shopSecret = randomBytes(32).toString("base64url");
  const clients: ClientConfig[] = [
    {
      clientId: PAY_CLIENT_ID,
      clientSecret: new Secret(paySecret),
      redirectUris: [PAY_REDIRECT],
      name: "MPay",
      firstParty: true,
    },
    {
      clientId: SHOP_CLIENT_ID,
      clientSecret: new Secret(shopSecret),
      redirectUris: [SHOP_REDIRECT],
      name: SHOP_NAME,
      firstParty: false,
    },
  ];
  let config: MessengerConfig = {
    ...loadConfig({}),
    port: 0,
    issuer: undefined,
    databaseUrl: database.url,
    dataDir,
    embeddedDatabaseDir: options.persistent ? join(dataDir, "db") : undefined,
    dbPoolSize: 4,
    logLevel: "info",
    clients,
    ...options.overrides,
  };
  const logLines: string[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => void logLines.push(line) });
  let server = await startMessenger(config, log);
  let running = true;
  const stop = async () => {
    running = false;
    await server.stop();
  };
  const start = async () => {
    server = await startMessenger(config, log);
    running = true;
  };
  // A restart keeps the port, hence the issuer: tokens issued before name the same `iss`.
  config = { ...config, port: new URL(server.url).port ? Number(new URL(server.url).port) : 0, issuer: server.issuer };
  return {
    get server() {
      return server;
    },
    get url() {
      return server.url;
    },
    get issuer() {
      return server.issuer;
    },
    config,
    paySecret,
    shopSecret,
    logLines,
    async restart() {
      await stop();
      await start();
    },
    stop,
    start,
    async close() {
      if (running) await server.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
