/**
 * `npm run bench -- auth`: how many payer PIN logins (OPAQUE) and payment approvals per second the pay server
 * does on PostgreSQL, next to the raw cost of the cryptography they rest on, measured in the same run (issue 3,
 * "Benchmark").
 *
 * 1. A throw-away database, dropped at the end (also on error or Ctrl-C).
 * 2. Setup (not timed): a PaySystem in this process makes a merchant and opens a session for each synthetic payer
 *    (`payers.openSession`: the messenger sign-in is not what is measured); the pay server runs as `processes`
 *    real processes; the load generator processes bind a device and set a PIN for each payer over HTTP
 *    (bench/auth-wallet.ts, with the cheapest OPAQUE key stretching: it runs on the phone, not on the server).
 * 3. The primitives, on one thread of this process while nothing else runs (bench/primitives.ts).
 * 4. Logins: a warm-up, then the timed run: each client loops pin-check logins.
 * 5. Approvals: payments are created over the merchant API (`requires_approval`); a warm-up, then the timed run:
 *    each client approves the next payment with the PIN. Should the payments run out, the run counts as a longer
 *    warm-up and is repeated with more (twice at most).
 * 6. The report, and checks in the database: every approval answered 200 is recorded, no payment left
 *    `requires_approval`, no PIN is left with tries counted or locked, no login is left outstanding.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { queryRows } from "../services/pay/src/db/client.ts";
import type { PaySystem } from "../services/pay/src/system.ts";
import type { AuthLoadProtocol, AuthMode } from "./auth-loadgen.ts";
import { formatAuthReport, phaseReport, type AuthReport, type PhaseReport } from "./auth-report.ts";
import { BENCH_KEY_STRETCHING, type BenchCard, type BenchPayer } from "./auth-wallet.ts";
import { newId } from "@mpay/protocol";
import { devicesOf } from "../services/pay/src/devices/store.ts";
import { insertCard } from "../services/pay/src/vault/store.ts";
import { openSetupSystem, poolPerProcess, startPayServers, type PayServers } from "./pay-servers.ts";
import { createScratchDatabase, randomSuffix, serverUrl, serverVersion } from "./postgres.ts";
import { measurePrimitives, type PrimitiveCosts } from "./primitives.ts";
import type { Scenario, ScenarioContext } from "./scenario.ts";
import { startSqlTrace, type SqlTrace } from "./sql-trace.ts";
import { bestRate, type WalletLoadResult } from "./wallet-load.ts";
import {
  bindPayers,
  createPayments,
  forkGenerators,
  measureRun,
  ORIGIN,
  runGenerators,
  runOnSupply,
  signInPayers,
  type Generators,
} from "./wallet-runs.ts";

const LOADGEN = new URL("./auth-loadgen.ts", import.meta.url);

/**
 * A vault card for each payer's device, as an issuer's enrollment leaves it (the issuer is not what is measured
 * here); each generator then seals and uploads its payers' cards with their device keys.
 */
async function addCards(
  system: PaySystem,
  generators: Generators<AuthLoadProtocol>,
  urls: string[],
  payers: BenchPayer[],
  loadgens: number,
): Promise<void> {
  const cards: BenchCard[] = [];
  for (const payer of payers) {
    const [device] = await devicesOf(system.database.db, payer.payerId);
    if (!device) throw new Error(`setup: payer ${payer.payerId} has no device`);
    const card = await insertCard(system.database.db, {
      id: newId("card"),
      payerId: payer.payerId,
      deviceId: device.id,
      issuerId: "sampo",
      cardRef: `cr_bench_${payer.payerId}`,
      brand: "visa",
      last4: "0016",
      expiryMonth: "2031-12",
      status: "awaiting_records",
    });
    cards.push({ payerId: payer.payerId, cardId: card.id, deviceId: device.id });
  }
  await Promise.all(
    generators.children.map(({ child }, g) =>
      child.request("cards", { urls, cards: cards.filter((_, i) => i % loadgens === g) }),
    ),
  );
}

/** One run of every generator at once. */
async function runAll(
  generators: Generators<AuthLoadProtocol>,
  mode: AuthMode,
  urls: string[],
  seconds: number,
  paymentIds: string[],
  clients: number,
): Promise<WalletLoadResult> {
  return (
    await runGenerators(generators, paymentIds, clients, (child, share) =>
      child.request("run", { mode, urls, seconds, ...share }),
    )
  ).merged;
}

async function runAuth(context: ScenarioContext): Promise<number> {
  const { options, cleanup, progress } = context;
  const payerCount = options.payers ?? options.clients * 4;
  if (payerCount < options.clients)
    throw new Error(
      `--payers ${payerCount} is fewer than --clients ${options.clients}: a payer has one PIN login at a time, so each client needs its own`,
    );
  if (options.loadgens > options.clients)
    throw new Error(`--loadgens ${options.loadgens} is more than --clients ${options.clients}`);
  const adminUrl = serverUrl();
  const postgresVersion = await serverVersion(adminUrl);
  const suffix = randomSuffix();
  const dbPool = poolPerProcess(options);
  const cpus = availableParallelism();

  // 1. Database.
  const payDb = await createScratchDatabase(adminUrl, `mpay_bench_${suffix}`);
  cleanup.add(`drop ${payDb.name}`, () => payDb.drop());

  // 2. Setup.
  const setupStarted = performance.now();
  let setupSeconds = 0;
  const dataDir = await mkdtemp(join(tmpdir(), "mpay-bench-"));
  cleanup.add(`remove ${dataDir}`, () => rm(dataDir, { recursive: true, force: true }));
  const system = await openSetupSystem(payDb.url, dataDir);
  cleanup.add("close the bench's pay system", () => system.close());
  const merchant = await system.merchants.create({
    name: "Bench Mall",
    allowedOrigins: [ORIGIN],
    actor: "system:bench",
  });
  const secretKey = merchant.secretKey.peek();
  const payers = await signInPayers(system, payerCount, suffix);

  let trace: SqlTrace | null = null;
  if (options.traceSql) {
    trace = await startSqlTrace(payDb.url);
    const t = trace;
    cleanup.add("close the SQL trace proxy", () => t.close());
  }
  const servers: PayServers = await startPayServers(
    // An hour to approve (15 minutes by default), so that no payment made during setup expires before its turn.
    {
      processes: options.processes,
      dbPool,
      databaseUrl: trace ? trace.url : payDb.url,
      dataDir,
      cpuProfileDir: options.cpuProfileDir,
      env: { MPAY_APPROVAL_TTL_SECONDS: "3600" },
    },
    cleanup,
    progress,
  );
  const urls = servers.urls;
  const generators = forkGenerators<AuthLoadProtocol>(LOADGEN, options, context);
  await bindPayers(generators, urls, payers, options.clients, progress);
  await addCards(system, generators, urls, payers, options.loadgens);
  setupSeconds += (performance.now() - setupStarted) / 1000;

  // 3. Primitives, while the servers and load generators are idle.
  progress("primitives: ECDSA P-256 verify (node:crypto, jose), OPAQUE server login steps");
  const primitives: PrimitiveCosts = await measurePrimitives(BENCH_KEY_STRETCHING);
  const cryptoMicroseconds: Record<AuthMode, number> = {
    logins: primitives.opaqueLogin.cpuMicroseconds,
    approvals: primitives.opaqueLogin.cpuMicroseconds + primitives.ecdsaVerifyJose.cpuMicroseconds,
  };

  const run = (mode: AuthMode, seconds: number, paymentIds: string[] = []) =>
    runAll(generators, mode, urls, seconds, paymentIds, options.clients);
  const watch = { servers, loadgenPids: generators.pids, system, trace };
  let approvalsAnswered = 0;
  const approved = (r: WalletLoadResult) => r.statuses.approve?.["200"] ?? 0;

  // 4. Logins.
  let warmLogins: WalletLoadResult | null = null;
  if (options.warmupSeconds > 0) {
    progress(`warm-up (logins): ${options.warmupSeconds} s`);
    warmLogins = await run("logins", options.warmupSeconds);
    if (warmLogins.non2xx > 0)
      progress(
        `warm-up: ${warmLogins.non2xx} non-2xx answers, e.g. ${JSON.stringify(warmLogins.errorSamples.slice(0, 3))}`,
      );
    progress(
      `warm-up: ${(warmLogins.ops / warmLogins.elapsedSeconds).toFixed(0)} logins/s on average, ${bestRate(warmLogins).toFixed(0)} in the best second`,
    );
  }
  progress(`timed run (logins): ${options.clients} clients, ${options.seconds} s`);
  const loginRun = await measureRun(watch, () => run("logins", options.seconds));
  const logins = phaseReport({
    mode: "logins",
    result: loginRun.result,
    warmupNon2xx: warmLogins?.non2xx ?? 0,
    cpu: loginRun.cpu,
    eventLoops: loginRun.eventLoops,
    cpus,
    processes: options.processes,
    cryptoMicroseconds: cryptoMicroseconds.logins,
    sqlTrace: loginRun.sqlTrace,
  });
  progress(`logins: ${logins.rate.toFixed(1)}/s`);

  // 5. Approvals: an approval is a login and more, so the logins' best second bounds the payments needed.
  const setupConcurrency = Math.max(4, Math.min(32, options.clients));
  const supply = await runOnSupply({
    estimate: bestRate(loginRun.result),
    warmupSeconds: options.warmupSeconds,
    seconds: options.seconds,
    clients: options.clients,
    label: "approvals",
    create: (count, tag) =>
      createPayments(urls, secretKey, {
        count,
        concurrency: setupConcurrency,
        tag,
        amount: (n) => 5000 + (n % 1000),
        captureMethod: "manual",
      }),
    run: (ids, seconds) => run("approvals", seconds, ids),
    timed: (ids) => measureRun(watch, () => run("approvals", options.seconds, ids)),
    onRun: (r) => (approvalsAnswered += approved(r)),
    progress,
  });
  setupSeconds += supply.setupSeconds;
  const approvalRun = supply.timed;
  const approvals: PhaseReport = phaseReport({
    mode: "approvals",
    result: approvalRun.result,
    warmupNon2xx: supply.warmupNon2xx,
    cpu: approvalRun.cpu,
    eventLoops: approvalRun.eventLoops,
    cpus,
    processes: options.processes,
    cryptoMicroseconds: cryptoMicroseconds.approvals,
    sqlTrace: approvalRun.sqlTrace,
  });
  progress(`approvals: ${approvals.rate.toFixed(1)}/s`);

  // 6. Stop the load (and the servers, writing their profiles), then check what the database holds.
  await Promise.all(generators.children.map((g) => g.child.close()));
  await Promise.all(servers.servers.map((s) => s.stop()));
  const count = async (query: ReturnType<typeof sql>) =>
    Number((await queryRows<{ n: number }>(system.database.db, query))[0]?.n ?? 0);
  const checks: AuthReport["checks"] = {
    approvalsInDatabase: await count(sql`select count(*)::int as n from payment_approvals`),
    approvalsAnswered,
    paymentsMovedOn: await count(sql`select count(*)::int as n from payments where status <> 'requires_approval'`),
    pinsWithTriesCounted: await count(sql`select count(*)::int as n from payer_pins where failed_tries > 0`),
    pinsLocked: await count(sql`select count(*)::int as n from payer_pins where locked_at is not null`),
    loginsOutstanding: await count(sql`select count(*)::int as n from pin_logins`),
  };

  const report: AuthReport = {
    scenario: "auth",
    postgresVersion,
    cpus,
    node: process.version,
    processes: options.processes,
    dbPoolPerProcess: dbPool,
    clients: options.clients,
    loadgens: options.loadgens,
    payers: payerCount,
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds,
    keyStretching: BENCH_KEY_STRETCHING,
    primitives,
    logins,
    approvals,
    checks,
    setupSeconds,
    cpuProfileDir: options.cpuProfileDir ?? null,
  };
  process.stdout.write(options.json ? JSON.stringify(report, null, 2) + "\n" : formatAuthReport(report));
  // Errors (not a missed figure) make the exit code: failed requests, or a database that disagrees with the answers.
  const ok =
    logins.non2xx + logins.warmupNon2xx + approvals.non2xx + approvals.warmupNon2xx === 0 &&
    checks.approvalsInDatabase === checks.approvalsAnswered &&
    checks.paymentsMovedOn === 0 &&
    checks.pinsLocked === 0 &&
    checks.pinsWithTriesCounted === 0 &&
    checks.loginsOutstanding === 0;
  return ok ? 0 : 1;
}

export const authScenario: Scenario = {
  summary: "payer PIN logins (OPAQUE) and payment approvals over HTTP, beside ECDSA and OPAQUE per core",
  run: runAuth,
};
