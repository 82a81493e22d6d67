/**
 * The network of the enrollment-limit drill (issue 7, drill d), in one of two shapes:
 * - PostgreSQL: the issuer host and **two pay-server processes** (real processes started with tsx), the pay
 *   servers sharing one database, the issuer on its own; the test's own pay system on that database makes sessions
 *   (as the messenger sign-in's callback would) and reads tables. What the issuer received is read from the
 *   issuer's own database (its `issuer_sampo` schema), never from the pay servers' answers.
 * - PGlite (no DATABASE_URL): a PGlite folder has one owner, so two processes cannot share one; the same bursts
 *   then go over real HTTP to one pay server and an issuer host, both in this process (openBreachNetwork), and the
 *   issuer's database is read in-process. The claims are the same code; only the cross-process part is missing.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SQL } from "drizzle-orm";
import { openDatabase, queryRows } from "@mpay/service-kit";
import { freshDatabase, type Backend } from "@mpay/service-kit/testing";
import type { EnrollmentLimits } from "../../services/pay/src/vault/enrollment-limits.ts";
import { openBreachNetwork } from "./breach-network.ts";
import { startIssuerProcess } from "./issuer-process.ts";
import { startPayProcess } from "./pay-process.ts";
import { openTestSystem } from "./pay-system.ts";
import { fixtureIssuerEnv } from "../../services/issuer/src/testing/fixtures.ts";

export interface LimitDrillNetwork {
  /** What the drill runs on, for the test's name and the report. */
  shape: string;
  /** The pay servers' base URLs; a burst alternates between them. */
  payUrls: string[];
  issuerUrl: string;
  /** A signed-in payer's session, as the messenger sign-in leaves it. */
  openSession(name: string): Promise<{ token: string; payerId: string }>;
  /** Rows of the issuer's (sampo's) own database. */
  issuerRows<T>(query: SQL): Promise<T[]>;
  /** Rows of the pay servers' database. */
  payRows<T>(query: SQL): Promise<T[]>;
  close(): Promise<void>;
}

export async function openLimitDrillNetwork(backend: Backend, payLimits: EnrollmentLimits): Promise<LimitDrillNetwork> {
  return backend === "postgres" ? openProcesses(payLimits) : openInProcess(payLimits);
}

async function openProcesses(payLimits: EnrollmentLimits): Promise<LimitDrillNetwork> {
  const payDatabase = await freshDatabase("postgres");
  const issuerDatabase = await freshDatabase("postgres", "issuer_test");
  const dataDir = await mkdtemp(join(tmpdir(), "mpay-limit-drill-"));
  const acquirerSecret = randomBytes(32).toString("base64url");
  const stoppers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    await payDatabase.drop();
    await issuerDatabase.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    // First: it migrates and makes the dev key file that both server processes then read.
    const system = await openTestSystem({ databaseUrl: payDatabase.url, dataDir });
    stoppers.push(() => system.close());
    const issuer = await startIssuerProcess({
      ISSUER_DATABASE_URL: issuerDatabase.url!,
      ISSUER_DATA_DIR: join(dataDir, "issuer"),
      ...fixtureIssuerEnv(["sampo"]),
      ISSUER_ACQUIRER_SECRET: acquirerSecret,
      ISSUER_OPERATOR_TOKEN: randomBytes(32).toString("base64url"),
      ISSUER_DB_POOL: "8",
    });
    stoppers.push(() => issuer.stop());
    const env = {
      DATABASE_URL: payDatabase.url!,
      MPAY_DATA_DIR: dataDir,
      MPAY_DB_POOL: "8",
      MPAY_WORKERS: "off",
      MPAY_ISSUER_URL: issuer.url,
      MPAY_ISSUER_ACQUIRER_SECRET: acquirerSecret,
      MPAY_ENROLLMENTS_PER_PAYER_PER_HOUR: String(payLimits.perPayerPerHour),
      MPAY_ENROLLMENTS_PER_ADDRESS_PER_HOUR: String(payLimits.perAddressPerHour),
    };
    const servers = await Promise.all([startPayProcess(env), startPayProcess(env)]);
    for (const server of servers) stoppers.push(() => server.stop());
    // The issuer's schema, read as its back office would: a connection of our own, nothing of the issuer's code.
    const issuerView = await openDatabase({
      schema: {},
      url: issuerDatabase.url,
      searchPath: "issuer_sampo",
      poolSize: 2,
    });
    stoppers.push(() => issuerView.close());
    return {
      shape: "two pay-server processes and an issuer process on PostgreSQL",
      payUrls: servers.map((s) => s.url),
      issuerUrl: issuer.url,
      async openSession(name) {
        const session = await system.payers.openSession({
          subject: `acct_drill_${randomBytes(6).toString("hex")}`,
          displayName: name,
          phoneNumber: null,
        });
        return { token: session.sessionToken.peek(), payerId: session.payer.id };
      },
      issuerRows: (query) => queryRows(issuerView.db, query),
      payRows: (query) => queryRows(system.database.db, query),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function openInProcess(payLimits: EnrollmentLimits): Promise<LimitDrillNetwork> {
  const net = await openBreachNetwork("pglite", { issuers: ["sampo"], pay: { enrollmentLimits: payLimits } });
  return {
    shape: "one pay server and an issuer host in this process on PGlite",
    payUrls: [net.payUrl],
    issuerUrl: net.issuerUrl,
    async openSession(name) {
      const session = await net.pay.system.payers.openSession({
        subject: `acct_drill_${randomBytes(6).toString("hex")}`,
        displayName: name,
        phoneNumber: null,
      });
      return { token: session.sessionToken.peek(), payerId: session.payer.id };
    },
    issuerRows: (query) => queryRows(net.issuer.host.get("sampo").db, query),
    payRows: (query) => queryRows(net.pay.system.database.db, query),
    close: () => net.close(),
  };
}
