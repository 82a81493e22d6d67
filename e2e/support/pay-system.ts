/**
 * The test's own pay system beside pay-server processes: the same code the server runs, on the same database and
 * data folder (so the same dev key file), without HTTP or workers. It reaches what no merchant route may do —
 * creating merchants, authorizing a payment as the payer's approval flow would — and reads tables directly.
 * And, for the browser tests of the dashboard and the console, the test's own pay server listening on a port with
 * the web app beside it (`openPayWithWebApp`).
 */
import { join } from "node:path";
import pino from "pino";
import { loadConfig } from "../../services/pay/src/config.ts";
import { openPaySystem, type PaySystem } from "../../services/pay/src/system.ts";
import { openTestPay, type TestPay } from "../../services/pay/src/testing/system.ts";
import { freePorts } from "./messenger-process.ts";
import { serveWebApp, type ServedWebApp } from "./web-app.ts";

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

export interface PayWithWebApp {
  /** The test's pay system (PGlite, one test merchant), its server listening at `payUrl`. */
  t: TestPay;
  payUrl: string;
  web: ServedWebApp;
  webUrl: string;
  close(): Promise<void>;
}

/**
 * The test's own pay server (PGlite, built as the server builds itself) listening on a free port, and the web app's
 * own server serving this run's build on another: two origins as in production, the pay server giving CORS to exactly
 * the web app's. With `passkeys` the web app is at `localhost` and the pay server's relying party is that origin
 * (browsers take no IP address as one), as `npm start` derives it from MPAY_WEB_URL.
 */
export async function openPayWithWebApp(options: { passkeys?: boolean } = {}): Promise<PayWithWebApp> {
  const [payPort, webPort] = (await freePorts(2)) as [number, number];
  const payUrl = `http://127.0.0.1:${payPort}`;
  const webUrl = `http://${options.passkeys ? "localhost" : "127.0.0.1"}:${webPort}`;
  // The web server starts (and the build finishes) while the database opens.
  const served = serveWebApp({ port: webPort, host: options.passkeys ? "localhost" : "127.0.0.1", payUrl });
  let t: TestPay | undefined;
  try {
    t = await openTestPay("pglite", {
      checkoutBaseUrl: webUrl,
      publicUrl: payUrl,
      ...(options.passkeys ? { passkeys: { rpId: "localhost", rpName: "MPay", origins: [webUrl] } } : {}),
    });
    await t.app.listen({ host: "127.0.0.1", port: payPort });
    const web = await served;
    const pay = t;
    return {
      t: pay,
      payUrl,
      web,
      webUrl,
      async close() {
        await web.stop();
        await pay.close();
      },
    };
  } catch (error) {
    await served.then(
      (web) => web.stop(),
      () => undefined,
    );
    await t?.close();
    throw error;
  }
}
