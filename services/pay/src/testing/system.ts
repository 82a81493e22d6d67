/** A whole pay system for a test: fresh database, temporary key file, app for `inject`, and one test merchant. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { buildApp } from "../app.ts";
import { loadConfig, type PayConfig } from "../config.ts";
import { openPaySystem, type OpenOptions, type PaySystem } from "../system.ts";
import { freshDatabase, type Backend } from "./databases.ts";

export interface TestMerchant {
  id: string;
  secretKey: string;
  publishableKey: string;
  webhookSecret: string;
}

export interface TestPay {
  system: PaySystem;
  app: FastifyInstance;
  merchant: TestMerchant;
  config: PayConfig;
  /** Lines the server logged, for the no-secrets-in-logs checks. */
  logLines: string[];
  createMerchant(name?: string, origins?: string[]): Promise<TestMerchant>;
  close(): Promise<void>;
}

export const TEST_ORIGIN = "https://shop.example";

export interface TestPayOptions extends OpenOptions {
  /** Runs before the test merchant is made: a shamir or pkcs11 vault must be initialised (and unsealed) first. */
  initKeys?: (system: PaySystem) => Promise<void>;
}

export async function openTestPay(
  backend: Backend,
  overrides: Partial<PayConfig> = {},
  { initKeys, ...options }: TestPayOptions = {},
): Promise<TestPay> {
  const database = await freshDatabase(backend);
  const dataDir = await mkdtemp(join(tmpdir(), "mpay-test-"));
  const config: PayConfig = {
    ...loadConfig({}),
    databaseUrl: database.url,
    dataDir,
    embeddedDatabaseDir: undefined,
    dbPoolSize: 4,
    workers: false,
    logLevel: "info",
    ...overrides,
  };
  const logLines: string[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => void logLines.push(line) });
  const system = await openPaySystem(config, log, options);
  const app = await buildApp(system);
  await app.ready();
  await initKeys?.(system);
  const createMerchant = async (name = "Test Shop", origins = [TEST_ORIGIN]): Promise<TestMerchant> => {
    const created = await system.merchants.create({ name, allowedOrigins: origins });
    return {
      id: created.merchant.id,
      secretKey: created.secretKey.peek(),
      publishableKey: created.publishableKey,
      webhookSecret: created.webhookSecret.peek(),
    };
  };
  const merchant = await createMerchant();
  let closed: Promise<void> | null = null;
  return {
    system,
    app,
    merchant,
    config,
    logLines,
    createMerchant,
    // Once: a drill closes the pay server early to take its data folder, and its network closes it again.
    close() {
      closed ??= (async () => {
        await app.close();
        await system.close();
        await database.drop();
        await rm(dataDir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}

/** A valid create-payment body; override what a test is about. */
export function paymentBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    amount: 35000,
    currency: "KRW",
    orderId: "order-1",
    itemName: "Linen shirt",
    returnUrl: `${TEST_ORIGIN}/done`,
    cancelUrl: `${TEST_ORIGIN}/cart`,
    captureMethod: "manual",
    ...overrides,
  };
}

export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  raw: string;
  headers: Record<string, string | string[] | number | undefined>;
}

/** One request through Fastify's inject (no socket), as a merchant's server would send it. */
export async function call<T = Record<string, unknown>>(
  app: FastifyInstance,
  method: "GET" | "POST" | "DELETE",
  url: string,
  key: string | null,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer<T>> {
  const response = await app.inject({
    method,
    url,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    ...(body !== undefined ? { payload: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  const raw = response.body;
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = null;
  }
  return { status: response.statusCode, body: parsed as T, raw, headers: response.headers };
}

/** Authorizes a payment the way the approval flow will: through the service, with an issuer's decision. */
export async function authorizeThroughService(system: PaySystem, paymentId: string): Promise<void> {
  await system.database.db.transaction((tx) =>
    system.payments.recordIssuerDecision(tx, paymentId, {
      approved: true,
      issuerId: "test-issuer",
      authorizationCode: "T0001",
    }),
  );
}

/**
 * A signed-in payer for tests of what comes after sign-in (the sign-in itself is tested against the real
 * messenger in e2e/payer-signin.test.ts): the identity is taken as verified.
 */
export async function signedInPayer(
  system: PaySystem,
  name = "Test Payer",
): Promise<{ token: string; payerId: string }> {
  const session = await system.payers.openSession({
    subject: `acct_${Math.random().toString(36).slice(2)}`,
    displayName: name,
    phoneNumber: null,
  });
  return { token: session.sessionToken.peek(), payerId: session.payer.id };
}
