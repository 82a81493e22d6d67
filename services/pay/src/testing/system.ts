/** A whole pay system for a test: fresh database, temporary key file, app for `inject`, and one test merchant. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { buildApp } from "../app.ts";
import { loadConfig, type PayConfig } from "../config.ts";
import { openPaySystem, type PaySystem } from "../system.ts";
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

export async function openTestPay(backend: Backend, overrides: Partial<PayConfig> = {}): Promise<TestPay> {
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
  const system = await openPaySystem(config, log);
  const app = await buildApp(system);
  await app.ready();
  const createMerchant = async (name = "Test Shop", origins = [TEST_ORIGIN]): Promise<TestMerchant> => {
    const created = await system.merchants.create({ name, allowedOrigins: origins });
    return { id: created.merchant.id, secretKey: created.secretKey.peek(), publishableKey: created.publishableKey, webhookSecret: created.webhookSecret.peek() };
  };
  const merchant = await createMerchant();
  return {
    system,
    app,
    merchant,
    config,
    logLines,
    createMerchant,
    async close() {
      await app.close();
      await system.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
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
