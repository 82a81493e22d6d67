/**
 * The test's own pay system beside pay-server processes: the same code the server runs, on the same database and
 * data folder (so the same dev key file), without HTTP or workers. It reaches what no merchant route may do —
 * creating merchants, authorizing a payment as the payer's approval flow would — and reads tables directly.
 */
import { join } from "node:path";
import pino from "pino";
import { loadConfig } from "../../services/pay/src/config.ts";
import { openPaySystem, type PaySystem } from "../../services/pay/src/system.ts";

export interface SystemLocation {
  /** PostgreSQL URL; undefined → PGlite in `<dataDir>/db`, where a server with MPAY_DATA_DIR=dataDir keeps it. */
  databaseUrl: string | undefined;
  dataDir: string;
}

/**
 * Opens (and migrates) the system. On PGlite, only one process may have the data folder open: open this only
 * while no server process runs on it, and close it before starting one.
 */
export function openTestSystem(at: SystemLocation): Promise<PaySystem> {
  return openPaySystem(
    {
      ...loadConfig({}),
      databaseUrl: at.databaseUrl,
      dataDir: at.dataDir,
      embeddedDatabaseDir: at.databaseUrl ? undefined : join(at.dataDir, "db"),
      dbPoolSize: 2,
      workers: false,
    },
    pino({ level: "silent" }),
  );
}

export interface CreatedMerchant {
  id: string;
  secretKey: string;
  webhookSecret: string;
}

export const SHOP_ORIGIN = "https://shop.example";

export async function createMerchant(system: PaySystem, name: string): Promise<CreatedMerchant> {
  const created = await system.merchants.create({ name, allowedOrigins: [SHOP_ORIGIN] });
  return { id: created.merchant.id, secretKey: created.secretKey.peek(), webhookSecret: created.webhookSecret.peek() };
}

/** Authorizes a payment as the payer's approval flow does (there is deliberately no merchant route for it). */
export async function authorizeThroughService(system: PaySystem, paymentId: string): Promise<void> {
  await system.database.db.transaction((tx) =>
    system.payments.recordIssuerDecision(tx, paymentId, {
      approved: true,
      issuerId: "test-issuer",
      authorizationCode: "A1",
    }),
  );
}

/** A valid create-payment body (manual capture); override what a test is about. */
export function paymentBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    amount: 35000,
    currency: "KRW",
    orderId: "order-1",
    itemName: "Linen shirt",
    returnUrl: `${SHOP_ORIGIN}/done`,
    cancelUrl: `${SHOP_ORIGIN}/cart`,
    captureMethod: "manual",
    ...overrides,
  };
}
