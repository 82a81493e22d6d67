/**
 * The site the restore drill backs up: the issuer host as a process of its own (a card company, and the audit log's
 * witness outside the pay database), a pay server process on PostgreSQL or the embedded PGlite, the key provider
 * under test, a merchant with a webhook endpoint, and a payer's phone with an enrolled card (crash-load.ts's load,
 * reused: create, approve on the phone, capture, refund, void, cancel). The restored server later takes over the
 * same port, as a failover keeps the address the phone and the merchant know.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { loadConfig } from "../services/pay/src/config.ts";
import { openPaySystem, type PaySystem } from "../services/pay/src/system.ts";
import { fixtureIssuerEnv } from "../services/issuer/src/testing/fixtures.ts";
import type { IssuerProcess } from "../e2e/support/issuer-process.ts";
import { freePorts } from "../e2e/support/messenger-process.ts";
import type { CreatedMerchant } from "../e2e/support/pay-system.ts";
import type { WebhookReceiver } from "../e2e/support/webhook-receiver.ts";
import { createScratchDatabase, randomSuffix, type ScratchDatabase } from "../bench/postgres.ts";
import { CrashLoad } from "./crash-load.ts";
import { ISSUER_ID, registerWebhookEndpoint, setUpShop, type DrillShop } from "./crash-system.ts";
import { keyCustody, type KeyCustody, type KeysKind } from "./restore-keys.ts";
import type { Launcher, RunningIssuer, RunningPay } from "./restore-launch.ts";

export interface SourceSite {
  dir: string;
  /** The PostgreSQL server the scratch databases live on; undefined → PGlite. */
  serverUrl: string | undefined;
  /** The pay database (PostgreSQL); undefined → PGlite in `<payDir>/db`. */
  payDatabase: ScratchDatabase | undefined;
  payDir: string;
  payPort: number;
  issuer: RunningIssuer;
  /** The issuer's heads URL: the witness of the pay server's audit log. */
  witnessUrl: string;
  custody: KeyCustody;
  merchant: CreatedMerchant;
  receiver: WebhookReceiver;
  endpointId: string;
  load: CrashLoad;
  /** The source site's pay server (stopped by the drill: the disaster). */
  server: RunningPay;
  /** What every pay server of the drill runs with, before its database, data folder and keys. */
  baseEnv: Record<string, string>;
  /** A pay server on `env` (database, data folder, keys) at the site's port; stopped by close(). */
  startPay(env: Record<string, string>): Promise<RunningPay>;
  /** Runs `rounds` more rounds of the load; the rounds done. */
  pay(rounds: number): Promise<number>;
  /** A database the drill made (the restored copy), dropped by close() with the site's own. */
  dropOnClose(database: ScratchDatabase): void;
  close(): Promise<void>;
}

export async function startSourceSite(
  serverUrl: string | undefined,
  keys: KeysKind,
  launcher: Launcher,
  progress: (line: string) => void,
): Promise<SourceSite> {
  const dir = await mkdtemp(join(tmpdir(), "mpay-drill-restore-"));
  const undo: Array<() => Promise<unknown>> = [];
  const databases: ScratchDatabase[] = [];
  const close = async () => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    // Dropped together once nothing uses them: each DROP DATABASE waits for its checkpoint.
    await Promise.all(databases.map((d) => d.drop().catch(() => undefined)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const suffix = randomSuffix();
    let payDatabase: ScratchDatabase | undefined;
    let issuerDatabase: ScratchDatabase | undefined;
    if (serverUrl) {
      payDatabase = await createScratchDatabase(serverUrl, `mpay_drill_restore_src_${suffix}`);
      databases.push(payDatabase);
      issuerDatabase = await createScratchDatabase(serverUrl, `mpay_drill_restore_issuer_${suffix}`);
      databases.push(issuerDatabase);
    }
    const payDir = join(dir, "pay");
    await mkdir(payDir, { recursive: true });
    const custody = await keyCustody(keys, payDir);
    undo.push(() => custody.close());

    const acquirerSecret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
    progress(`starting the issuer host (${serverUrl ? "PostgreSQL" : "PGlite"}), the audit log's witness`);
    const issuer = await launcher.issuer({
      ISSUER_DATA_DIR: join(dir, "issuer"),
      ...(issuerDatabase ? { ISSUER_DATABASE_URL: issuerDatabase.url } : {}),
      ...fixtureIssuerEnv([ISSUER_ID]),
      ISSUER_ACQUIRER_SECRET: acquirerSecret,
    });
    undo.push(() => issuer.stop());
    const witnessUrl = `${issuer.url}/issuers/${ISSUER_ID}/audit-heads`;
    const [payPort] = (await freePorts(1)) as [number];
    const baseEnv: Record<string, string> = {
      MPAY_ISSUER_URL: issuer.url,
      MPAY_ISSUER_ACQUIRER_SECRET: acquirerSecret,
      MPAY_AUDIT_WITNESS_URL: witnessUrl,
      PAY_PORT: String(payPort),
      // The witness gets the newest head at every maintenance pass; often, so the drill need not wait.
      MPAY_EXPIRY_INTERVAL_MS: "100",
      MPAY_WEBHOOK_POLL_MS: "50",
      MPAY_RATE_LIMIT_PER_MINUTE: "1000000",
      NODE_ENV: "test",
    };
    const sourceEnv = {
      ...baseEnv,
      ...custody.env,
      ...(payDatabase ? { DATABASE_URL: payDatabase.url, MPAY_DB_POOL: "4" } : {}),
      MPAY_DATA_DIR: payDir,
    };

    // Setup no route does: the vault, the merchant, the payer's session, the statement key certified.
    progress(`making the ${keys} vault, the merchant and the payer's session`);
    const setup = await openSystem(sourceEnv);
    let shop: DrillShop;
    try {
      await custody.initialize(setup);
      await custody.unsealSystem(setup);
      shop = await setUpShop(setup, "Restore Drill Shop", [
        { subject: "acct_restore_drill", displayName: "Han Jiwoo" },
      ]);
    } finally {
      await setup.close();
    }
    const { merchant } = shop;
    const sessionToken = shop.sessionTokens[0] as string;

    const running = new Set<RunningPay>();
    const startPay = async (env: Record<string, string>): Promise<RunningPay> => {
      const server = await launcher.pay({ ...baseEnv, ...env });
      running.add(server);
      return {
        ...server,
        stop: async () => {
          running.delete(server);
          await server.stop();
        },
      };
    };
    undo.push(() => Promise.all([...running].map((s) => s.stop())));

    const server = await startPay(sourceEnv);
    await custody.unsealServer(server.url);
    const { receiver, endpointId } = await registerWebhookEndpoint(server.url, merchant.secretKey);
    undo.push(() => receiver.close());
    progress("binding the payer's phone and enrolling its card");
    const load = await CrashLoad.prepare({
      payUrl: server.url,
      dir,
      sessionToken,
      secretKey: merchant.secretKey,
      // CrashLoad.prepare reads only latestCode from its issuer, which both launchers' issuers have.
      issuer: issuer as IssuerProcess,
    });
    return {
      dir,
      serverUrl,
      payDatabase,
      payDir,
      payPort,
      issuer,
      witnessUrl,
      custody,
      merchant,
      receiver,
      endpointId,
      load,
      server,
      baseEnv,
      startPay,
      async pay(rounds) {
        const target = load.tally.rounds + rounds;
        await load.run(() => load.tally.rounds >= target);
        return rounds;
      },
      dropOnClose: (database) => void databases.push(database),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The drill's own PaySystem on a site's environment, for setup no route does (no HTTP, no workers). */
function openSystem(env: Record<string, string>): Promise<PaySystem> {
  const config = loadConfig(env);
  return openPaySystem({ ...config, dbPoolSize: 2, workers: false }, pino({ level: "silent" }));
}
