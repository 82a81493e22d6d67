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
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { Pool } from "undici";
import { queryRows } from "../services/pay/src/db/client.ts";
import type { PaySystem } from "../services/pay/src/system.ts";
import { forkChild, type BenchChild } from "./child.ts";
import type { AuthLoadProtocol, AuthLoadResult, AuthMode } from "./auth-loadgen.ts";
import { bestRate, formatAuthReport, mergeResults, phaseReport, type AuthReport, type PhaseReport } from "./auth-report.ts";
import { BENCH_KEY_STRETCHING, type BenchCard, type BenchPayer } from "./auth-wallet.ts";
import { newId } from "@mpay/protocol";
import { devicesOf } from "../services/pay/src/devices/store.ts";
import { insertCard } from "../services/pay/src/vault/store.ts";
import { cpuBetween, cpuSnapshot } from "./cpu-usage.ts";
import { eventLoopBusy, openSetupSystem, otherSessionsOf, poolPerProcess, startPayServers, type PayServers } from "./pay-servers.ts";
import { createScratchDatabase, randomSuffix, serverUrl, serverVersion } from "./postgres.ts";
import { measurePrimitives, type PrimitiveCosts } from "./primitives.ts";
import type { BenchOptions, Scenario, ScenarioContext } from "./scenario.ts";
import { startSqlTrace, type SqlTrace } from "./sql-trace.ts";

const ORIGIN = "https://bench.example";
const LOADGEN = fileURLToPath(new URL("./auth-loadgen.ts", import.meta.url));

/** The load generators, each with its share of the clients (a contiguous range of indices) and of the payers. */
interface Generators {
  children: Array<{ child: BenchChild<AuthLoadProtocol>; firstClient: number; clients: number }>;
  pids: Array<number | undefined>;
}

/** Creates `count` manual-capture payments over the merchant API, `concurrency` at a time; returns their ids. */
async function createPayments(urls: string[], secretKey: string, count: number, concurrency: number, tag: string): Promise<string[]> {
  const pools = urls.map((url) => new Pool(url, { connections: Math.ceil(concurrency / urls.length), pipelining: 1 }));
  const ids = new Array<string>(count);
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        for (let n = next++; n < count; n = next++) {
          const response = await (pools[w % pools.length] as Pool).request({
            path: "/v1/payments",
            method: "POST",
            headers: { authorization: `Bearer ${secretKey}`, "content-type": "application/json", "idempotency-key": `setup-${tag}-${n}` },
            body: JSON.stringify({
              amount: 5000 + (n % 1000),
              currency: "KRW",
              orderId: `setup-${tag}-${n}`,
              itemName: "Bench item",
              returnUrl: `${ORIGIN}/done`,
              cancelUrl: `${ORIGIN}/cart`,
              captureMethod: "manual",
            }),
          });
          const text = await response.body.text();
          if (response.statusCode !== 200) throw new Error(`setup: POST /v1/payments answered ${response.statusCode}: ${text.slice(0, 300)}`);
          ids[n] = (JSON.parse(text) as { id: string }).id;
        }
      }),
    );
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  return ids;
}

/** Opens a session for each synthetic payer, through the service (as a messenger sign-in would end). */
async function signInPayers(system: PaySystem, count: number, suffix: string): Promise<BenchPayer[]> {
  const payers = new Array<BenchPayer>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = next++; i < count; i = next++) {
        const session = await system.payers.openSession({ subject: `bench_${suffix}_${i}`, displayName: `Bench Payer ${i + 1}`, phoneNumber: null });
        payers[i] = { payerId: session.payer.id, sessionToken: session.sessionToken.peek() };
      }
    }),
  );
  return payers;
}

/** Forks `loadgens` load generators, gives each its clients and payers, and has it enroll them. */
async function startGenerators(options: BenchOptions, urls: string[], payers: BenchPayer[], context: ScenarioContext): Promise<Generators> {
  const children: Generators["children"] = [];
  let firstClient = 0;
  for (let g = 0; g < options.loadgens; g++) {
    const clients = Math.ceil((options.clients - g) / options.loadgens);
    const child = forkChild<AuthLoadProtocol>(LOADGEN, `load generator ${g + 1}`);
    context.cleanup.add(`stop load generator ${g + 1}`, () => child.close());
    children.push({ child, firstClient, clients });
    firstClient += clients;
  }
  const started = performance.now();
  const concurrency = Math.max(2, Math.min(16, Math.ceil(options.clients / options.loadgens)));
  // Payer i goes to generator i mod loadgens: each gets at least as many payers as clients (payers ≥ clients).
  await Promise.all(
    children.map(({ child }, g) => child.request("enroll", { urls, payers: payers.filter((_, i) => i % options.loadgens === g), concurrency })),
  );
  context.progress(`setup: ${payers.length} payers bound a device and set a PIN in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { children, pids: children.map((c) => c.child.pid) };
}

/**
 * A vault card for each payer's device, as an issuer's enrollment leaves it (the issuer is not what is measured
 * here); each generator then seals and uploads its payers' cards with their device keys.
 */
async function addCards(system: PaySystem, generators: Generators, urls: string[], payers: BenchPayer[], loadgens: number): Promise<void> {
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
  await Promise.all(generators.children.map(({ child }, g) => child.request("cards", { urls, cards: cards.filter((_, i) => i % loadgens === g) })));
}

/** One run of every generator at once; payment j goes to the generator of client j mod clients. */
async function runGenerators(generators: Generators, mode: AuthMode, urls: string[], seconds: number, paymentIds: string[], clients: number): Promise<AuthLoadResult> {
  const results = await Promise.all(
    generators.children.map(({ child, firstClient, clients: mine }) =>
      child.request("run", {
        mode,
        urls,
        clients: mine,
        firstClient,
        seconds,
        paymentIds: paymentIds.filter((_, j) => j % clients >= firstClient && j % clients < firstClient + mine),
      }),
    ),
  );
  return mergeResults(results);
}

async function runAuth(context: ScenarioContext): Promise<number> {
  const { options, cleanup, progress } = context;
  const payerCount = options.payers ?? options.clients * 4;
  if (payerCount < options.clients) throw new Error(`--payers ${payerCount} is fewer than --clients ${options.clients}: a payer has one PIN login at a time, so each client needs its own`);
  if (options.loadgens > options.clients) throw new Error(`--loadgens ${options.loadgens} is more than --clients ${options.clients}`);
  const adminUrl = serverUrl();
  const postgresVersion = await serverVersion(adminUrl);
  const suffix = randomSuffix();
  const dbPool = poolPerProcess(options);
  const cpus = availableParallelism();

  // 1. Database.
  const payDb = await createScratchDatabase(adminUrl, `mpay_bench_${suffix}`);
  cleanup.add(`drop ${payDb.name}`, () => payDb.drop());

  // 2. Setup.
  let setupStarted = performance.now();
  let setupSeconds = 0;
  const dataDir = await mkdtemp(join(tmpdir(), "mpay-bench-"));
  cleanup.add(`remove ${dataDir}`, () => rm(dataDir, { recursive: true, force: true }));
  const system = await openSetupSystem(payDb.url, dataDir);
  cleanup.add("close the bench's pay system", () => system.close());
  const merchant = await system.merchants.create({ name: "Bench Mall", allowedOrigins: [ORIGIN], actor: "system:bench" });
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
    { processes: options.processes, dbPool, databaseUrl: trace ? trace.url : payDb.url, dataDir, cpuProfileDir: options.cpuProfileDir, env: { MPAY_APPROVAL_TTL_SECONDS: "3600" } },
    cleanup,
    progress,
  );
  const urls = servers.urls;
  const generators = await startGenerators(options, urls, payers, context);
  await addCards(system, generators, urls, payers, options.loadgens);
  setupSeconds += (performance.now() - setupStarted) / 1000;

  // 3. Primitives, while the servers and load generators are idle.
  progress("primitives: ECDSA P-256 verify (node:crypto, jose), OPAQUE server login steps");
  const primitives: PrimitiveCosts = await measurePrimitives(BENCH_KEY_STRETCHING);
  const cryptoMicroseconds: Record<AuthMode, number> = {
    logins: primitives.opaqueLogin.cpuMicroseconds,
    approvals: primitives.opaqueLogin.cpuMicroseconds + primitives.ecdsaVerifyJose.cpuMicroseconds,
  };

  const run = (mode: AuthMode, seconds: number, paymentIds: string[] = []) => runGenerators(generators, mode, urls, seconds, paymentIds, options.clients);
  /** A timed run with the CPU of each component measured around it (and profiled and traced, if asked). */
  const timed = async (mode: AuthMode, paymentIds: string[] = []) => {
    trace?.reset();
    progress(`timed run (${mode}): ${options.clients} clients, ${options.seconds} s`);
    servers.toggleProfilers();
    const loopsBefore = await servers.eventLoops();
    const before = await cpuSnapshot(servers.pids, generators.pids, await otherSessionsOf(system));
    const result = await run(mode, options.seconds, paymentIds);
    const cpu = cpuBetween(before, await cpuSnapshot(servers.pids, generators.pids, await otherSessionsOf(system)));
    const eventLoops = eventLoopBusy(loopsBefore, await servers.eventLoops());
    servers.toggleProfilers();
    return { result, cpu, eventLoops, sqlTrace: trace ? trace.snapshot() : null };
  };
  const warmUp = async (mode: AuthMode, paymentIds: string[] = []): Promise<AuthLoadResult | null> => {
    if (options.warmupSeconds === 0) return null;
    progress(`warm-up (${mode}): ${options.warmupSeconds} s`);
    const warm = await run(mode, options.warmupSeconds, paymentIds);
    if (warm.non2xx > 0) progress(`warm-up: ${warm.non2xx} non-2xx answers, e.g. ${JSON.stringify(warm.errorSamples.slice(0, 3))}`);
    progress(`warm-up: ${(warm.ops / warm.elapsedSeconds).toFixed(0)} ${mode}/s on average, ${bestRate(warm).toFixed(0)} in the best second`);
    return warm;
  };
  let approvalsAnswered = 0;
  const approved = (r: AuthLoadResult) => r.statuses.approve?.["200"] ?? 0;

  // 4. Logins.
  const warmLogins = await warmUp("logins");
  const loginRun = await timed("logins");
  const logins = phaseReport({ mode: "logins", result: loginRun.result, warmupNon2xx: warmLogins?.non2xx ?? 0, cpu: loginRun.cpu, eventLoops: loginRun.eventLoops, cpus, processes: options.processes, cryptoMicroseconds: cryptoMicroseconds.logins, sqlTrace: loginRun.sqlTrace });
  progress(`logins: ${logins.rate.toFixed(1)}/s`);

  // 5. Approvals: an approval is a login and more, so the logins' best second bounds the payments needed.
  setupStarted = performance.now();
  const setupConcurrency = Math.max(4, Math.min(32, options.clients));
  let estimate = bestRate(loginRun.result);
  let warmupNon2xx = 0;
  if (options.warmupSeconds > 0) {
    const warmIds = await createPayments(urls, secretKey, Math.ceil(estimate * options.warmupSeconds * 1.5) + options.clients * 4, setupConcurrency, "warm");
    setupSeconds += (performance.now() - setupStarted) / 1000;
    const warm = await warmUp("approvals", warmIds);
    if (warm) {
      approvalsAnswered += approved(warm);
      warmupNon2xx += warm.non2xx;
      estimate = warm.exhausted ? Math.max(estimate, 2 * bestRate(warm)) : bestRate(warm);
    }
    setupStarted = performance.now();
  }
  let needed = Math.ceil(estimate * options.seconds * 1.5) + options.clients * 10;
  let approvalRun: Awaited<ReturnType<typeof timed>>;
  for (let attempt = 1; ; attempt++) {
    progress(`setup: creating ${needed} payments to approve`);
    const ids = await createPayments(urls, secretKey, needed, setupConcurrency, `timed${attempt}`);
    setupSeconds += (performance.now() - setupStarted) / 1000;
    approvalRun = await timed("approvals", ids);
    approvalsAnswered += approved(approvalRun.result);
    if (!approvalRun.result.exhausted || attempt === 3) break;
    warmupNon2xx += approvalRun.result.non2xx;
    const best = bestRate(approvalRun.result);
    progress(`timed run: the ${ids.length} payments ran out after ${approvalRun.result.elapsedSeconds.toFixed(1)} s (${best.toFixed(0)}/s at best); again`);
    needed = Math.ceil(best * options.seconds * 1.5) + options.clients * 10;
    setupStarted = performance.now();
  }
  const approvals: PhaseReport = phaseReport({
    mode: "approvals",
    result: approvalRun.result,
    warmupNon2xx,
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
  const count = async (query: ReturnType<typeof sql>) => Number((await queryRows<{ n: number }>(system.database.db, query))[0]?.n ?? 0);
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
