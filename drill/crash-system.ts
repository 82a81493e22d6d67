/**
 * The system the crash drill runs against: the issuer host and the pay server as processes of their own (the pay
 * server is killed by its fault points and started again on the same database, port and key file; the issuer host
 * is killed at random and at its after-commit point, and started again on the same database and port), a
 * merchant's webhook endpoint, and the drill's own PaySystem on the same database for setup and the final checks
 * (on PGlite only while no server runs: one process may have the data folder open). On PostgreSQL the drill also
 * ends the servers' database connections under them (pg_terminate_backend).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { TestClock, type Clock } from "@mpay/service-kit";
import { loadConfig } from "../services/pay/src/config.ts";
import { openPaySystem, type PaySystem } from "../services/pay/src/system.ts";
import { certifyStatementKey } from "../services/pay/src/testing/statement-key.ts";
import { fixtureIssuerEnv, testRootSigner } from "../services/issuer/src/testing/fixtures.ts";
import { SimulatorConnector } from "../services/pay/src/issuers/simulator/connector.ts";
import { startPayProcess, type PayProcess } from "../e2e/support/pay-process.ts";
import type { IssuerProcess } from "../e2e/support/issuer-process.ts";
import { freePorts } from "../e2e/support/messenger-process.ts";
import { createMerchant, type CreatedMerchant } from "../e2e/support/pay-system.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../e2e/support/webhook-receiver.ts";
import { api } from "../e2e/support/http.ts";
import { createScratchDatabase, randomSuffix, type ScratchDatabase } from "../bench/postgres.ts";
import { approvingTestCards } from "../bench/pay-wallet.ts";
import { IssuerSupervisor } from "./crash-issuer.ts";
import { terminateBackends } from "./crash-connections.ts";
import { expireDeadLeases, queuedEvents, settleInDoubt } from "./crash-invariants.ts";
import type { FaultPoint } from "../services/pay/src/fault-points.ts";

/** The simulator's issuer the drill's card belongs to. */
export const ISSUER_ID = "sampo";

/**
 * The issuers the issuer host runs: ISSUER_ID alone for one payer; every simulator issuer for more, so that the
 * payers' cards spread over their nine approving cards (an issuer sends 5 enrollment codes per card a day).
 */
export function drillIssuers(payers: number): string[] {
  return payers > 1 ? [...new Set(approvingTestCards().map((c) => c.issuerId))] : [ISSUER_ID];
}

/** Payers the issuers' enrollment limit allows: 5 codes a day for each approving card. */
export const MAX_PAYERS = 5 * approvingTestCards().length;

export interface CrashSystem {
  dir: string;
  payUrl: string;
  /** The issuer host as first started (its test inbox, for the card's enrollment). */
  issuer: IssuerProcess;
  /** Kills and restarts of the issuer host. */
  issuerHost: IssuerSupervisor;
  /**
   * Ends up to `n` of the servers' PostgreSQL connections (pay's and the issuer's), chosen at random; how many
   * ended. Null on PGlite: there is no connection to end.
   */
  terminateConnections: ((n: number) => Promise<number>) | null;
  /** The acquirer link to the issuer, for reading its books. */
  issuerLink: SimulatorConnector;
  merchant: CreatedMerchant;
  receiver: WebhookReceiver;
  endpointId: string;
  /** A payer's session token (the drill's phone signs in with it). */
  sessionToken: string;
  /** Further payers' session tokens, one per phone (`payers` − 1 of them; none by default). */
  otherSessionTokens: string[];
  /** A pay server armed with `point` (none: a clean one); its exit is watched by the caller. */
  startPay(point: FaultPoint | null): Promise<PayProcess>;
  /** The drill's own PaySystem, `hoursAhead` on its clock; only while no server runs on PGlite. */
  withSystem<T>(work: (system: PaySystem, clock: TestClock) => Promise<T>, hoursAhead?: number): Promise<T>;
  close(): Promise<void>;
}

type Parts = Omit<CrashSystem, "close" | "startPay" | "withSystem" | "terminateConnections">;

/** As e2e's openTestSystem, on the drill's clock (the final reconciler's pass runs hours later). */
function openDrillSystem(
  at: { databaseUrl: string | undefined; dataDir: string },
  clock: Clock,
  env: Record<string, string>,
): Promise<PaySystem> {
  return openPaySystem(
    {
      // The issuer the servers use: the drill's reconciler pass asks it too.
      ...loadConfig(env),
      databaseUrl: at.databaseUrl,
      dataDir: at.dataDir,
      embeddedDatabaseDir: at.databaseUrl ? undefined : join(at.dataDir, "db"),
      dbPoolSize: 2,
      workers: false,
      clock,
    },
    pino({ level: "silent" }),
  );
}

/** A payer the drill signs in: the subject of its account at the wallet's identity provider, and its name. */
export interface DrillPayer {
  subject: string;
  displayName: string;
}

/** The merchant and the payers' sessions the drill's phones sign in with (in the payers' order). */
export interface DrillShop {
  merchant: CreatedMerchant;
  sessionTokens: string[];
}

/**
 * Setup no route does, on the drill's own PaySystem: the merchant, a session for each payer, and the pay server's
 * statement key certified by the test root.
 */
export async function setUpShop(setup: PaySystem, name: string, payers: DrillPayer[]): Promise<DrillShop> {
  const merchant = await createMerchant(setup, name);
  const sessionTokens: string[] = [];
  for (const payer of payers) {
    const session = await setup.payers.openSession({ ...payer, phoneNumber: null });
    sessionTokens.push(session.sessionToken.peek());
  }
  await certifyStatementKey(setup, await testRootSigner());
  return { merchant, sessionTokens };
}

/**
 * The merchant's webhook endpoint: a receiver that verifies every message with the endpoint's secret, registered
 * through a running pay server. The caller closes the receiver.
 */
export async function registerWebhookEndpoint(
  payUrl: string,
  secretKey: string,
): Promise<{ receiver: WebhookReceiver; endpointId: string }> {
  // The secret is known only once the endpoint is registered, which needs the receiver's URL first.
  let secret = "";
  const receiver = await startWebhookReceiver(
    () => secret,
    () => 200,
  );
  try {
    const endpoint = await api<{ id: string; secret: string }>(payUrl, "POST", "/v1/webhook-endpoints", secretKey, {
      url: receiver.url,
    });
    if (endpoint.status !== 200) throw new Error(`registering the webhook endpoint answered ${endpoint.raw}`);
    secret = endpoint.body.secret;
    return { receiver, endpointId: endpoint.body.id };
  } catch (error) {
    await receiver.close();
    throw error;
  }
}

/**
 * PostgreSQL when `serverUrl` is given (a throwaway database each for the pay server and the issuer), else PGlite.
 * `reach` turns a throwaway database's URL into the one the processes use (the failover drill lists every host).
 */
export async function startCrashSystem(
  serverUrl: string | undefined,
  progress: (line: string) => void,
  prepare: (payUrl: string, system: Parts) => Promise<void>,
  reach: (databaseUrl: string) => string = (url) => url,
  more: {
    /** More of the pay server's environment (the soak drill's NATS_URL). */
    payEnv?: Record<string, string>;
    /** Payers with a session each (default 1). */
    payers?: number;
  } = {},
): Promise<CrashSystem> {
  const payers = more.payers ?? 1;
  if (!Number.isSafeInteger(payers) || payers < 1 || payers > MAX_PAYERS)
    throw new Error(`payers must be an integer from 1 to ${MAX_PAYERS}, got ${payers}`);
  const dir = await mkdtemp(join(tmpdir(), "mpay-drill-crash-"));
  const databases: ScratchDatabase[] = [];
  const undo: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    for (const database of databases) await database.drop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    if (serverUrl) {
      const suffix = randomSuffix();
      databases.push(await createScratchDatabase(serverUrl, `mpay_drill_crash_${suffix}`));
      databases.push(await createScratchDatabase(serverUrl, `mpay_drill_crash_issuer_${suffix}`));
    }
    const [payDatabaseUrl, issuerDatabaseUrl] = databases.map((d) => reach(d.url));
    const payDir = join(dir, "pay");
    const location = { databaseUrl: payDatabaseUrl, dataDir: payDir };
    const acquirerSecret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
    progress(`starting the issuer host (${serverUrl ? "PostgreSQL" : "PGlite"})`);
    const [issuerPort] = (await freePorts(1)) as [number];
    const issuerHost = await IssuerSupervisor.start({
      ISSUER_DATA_DIR: join(dir, "issuer"),
      // One port for every life of the issuer host: the pay server keeps its address across restarts.
      ISSUER_PORT: String(issuerPort),
      ...(issuerDatabaseUrl ? { ISSUER_DATABASE_URL: issuerDatabaseUrl, ISSUER_DB_POOL: "4" } : {}),
      ...fixtureIssuerEnv(drillIssuers(payers)),
      ISSUER_ACQUIRER_SECRET: acquirerSecret,
    });
    undo.push(() => issuerHost.close());
    const issuer = issuerHost.current;
    const issuerLink = new SimulatorConnector({ baseUrl: issuer.url, acquirerSecret, timeoutMs: 5_000 });
    const issuerEnv = {
      MPAY_ISSUER_URL: issuer.url,
      MPAY_ISSUER_ACQUIRER_SECRET: acquirerSecret,
      MPAY_AUDIT_WITNESS_URL: "off",
    };

    // Setup no route does: the merchant, the payers' sessions, the pay server's statement key certified.
    const setup = await openDrillSystem(location, new TestClock(), issuerEnv);
    let shop: DrillShop;
    try {
      shop = await setUpShop(
        setup,
        "Crash Drill Shop",
        Array.from({ length: payers }, (_, i) => ({
          subject: i === 0 ? "acct_crash_drill" : `acct_crash_drill_${i}`,
          displayName: "Yoon Seoyeon",
        })),
      );
    } finally {
      await setup.close();
    }
    const { merchant, sessionTokens } = shop;

    const [payPort] = (await freePorts(1)) as [number];
    const payEnv: Record<string, string> = {
      ...(payDatabaseUrl ? { DATABASE_URL: payDatabaseUrl, MPAY_DB_POOL: "6" } : {}),
      MPAY_DATA_DIR: payDir,
      // One port for every life: the phone and the merchant keep the address across restarts.
      PAY_PORT: String(payPort),
      ...issuerEnv,
      // The reconciler's pass and the webhook worker's poll come often, so their points are reached quickly.
      MPAY_EXPIRY_INTERVAL_MS: "200",
      MPAY_WEBHOOK_POLL_MS: "50",
      MPAY_WEBHOOK_RETRY_BASE_MS: "200",
      MPAY_WEBHOOK_MAX_ATTEMPTS: "50",
      MPAY_RATE_LIMIT_PER_MINUTE: "1000000",
      // The breaker opened by an issuer kill probes again after a second, not 30: a life is a few seconds long.
      MPAY_ISSUER_BREAKER_COOLDOWN_MS: "1000",
      // Every phone of the drill enrolls its card from 127.0.0.1 (30 an hour per address by default).
      ...(payers > 30 ? { MPAY_ENROLLMENTS_PER_ADDRESS_PER_HOUR: String(payers) } : {}),
      NODE_ENV: "test",
      ...more.payEnv,
    };
    const running = new Set<PayProcess>();
    const startPay = async (point: FaultPoint | null) => {
      const server = await startPayProcess({ ...payEnv, ...(point ? { PAY_TEST_FAULTS: point } : {}) });
      running.add(server);
      server.child.once("exit", () => running.delete(server));
      return server;
    };
    undo.push(() => Promise.all([...running].map((s) => s.kill9())));

    const withSystem = async <T>(work: (system: PaySystem, clock: TestClock) => Promise<T>, hoursAhead = 0) => {
      if (running.size > 0 && !payDatabaseUrl) throw new Error("the PGlite folder is open in a running pay server");
      const clock = new TestClock();
      clock.advance(hoursAhead * 3600);
      const system = await openDrillSystem(location, clock, issuerEnv);
      try {
        return await work(system, clock);
      } finally {
        await system.close();
      }
    };

    const first = await startPay(null);
    const { receiver, endpointId } = await registerWebhookEndpoint(first.url, merchant.secretKey);
    undo.push(() => receiver.close());
    const parts: Parts = {
      dir,
      payUrl: first.url,
      issuer,
      issuerHost,
      issuerLink,
      merchant,
      receiver,
      endpointId,
      sessionToken: sessionTokens[0] as string,
      otherSessionTokens: sessionTokens.slice(1),
    };
    await prepare(first.url, parts);
    await first.stop();
    const [payDatabase, issuerDatabase] = databases;
    const terminateConnections =
      serverUrl && payDatabase && issuerDatabase
        ? (n: number) => terminateBackends(serverUrl, [payDatabase.name, issuerDatabase.name], n)
        : null;
    return { ...parts, startPay, withSystem, terminateConnections, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** What a drill's end left, once settled: for its invariants. */
export interface Settled {
  /** The issuer operations the reconciler left pending, described. */
  inDoubt: string[];
  /** The ids of the events the merchant's endpoint accepted (read anew at each call). */
  delivered: () => Set<string>;
}

/**
 * What the crashes left: the reconciler settles it (an hour later, past every terms' deadline), the dead
 * processes' webhook leases end, and a clean server delivers every event still queued, until the server has none
 * pending (the retries made more). `whileUp` runs on the clean server before that wait (the crash drill's merchant
 * retries what went unanswered). What is still missing once delivery stops moving for 30 s is left for the
 * invariants to report.
 */
export async function settleAndDeliver(system: CrashSystem, whileUp?: () => Promise<void>): Promise<Settled> {
  const { inDoubt, queued } = await system.withSystem(async (pay, clock) => {
    const left = await settleInDoubt(pay, clock.now());
    await expireDeadLeases(pay);
    return { inDoubt: left, queued: await queuedEvents(pay, system.endpointId) };
  }, 1);
  const clean = await system.startPay(null);
  const delivered = () => new Set(system.receiver.accepted().map((m) => m.eventId ?? ""));
  await whileUp?.();
  const nonePending = async () => {
    const pending = await api<{ data: unknown[] }>(
      clean.url,
      "GET",
      `/v1/webhook-endpoints/${system.endpointId}/deliveries?status=pending`,
      system.merchant.secretKey,
    );
    return pending.body.data?.length === 0;
  };
  // Until every queued event is delivered and none is pending, or delivery stops moving for 30 s. One set per look:
  // the receiver answers on this process's event loop, so a slow check here is a timeout at the pay server.
  let seen = -1;
  let movedAt = Date.now();
  for (;;) {
    const now = delivered();
    if (queued.every((id) => now.has(id)) && (await nonePending())) break;
    if (system.receiver.messages.length !== seen) {
      seen = system.receiver.messages.length;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > 30_000) break; // what is missing is reported by the invariants
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // A throw above leaves the clean server to close(), which kills every server still running.
  await clean.stop();
  return { inDoubt, delivered };
}
