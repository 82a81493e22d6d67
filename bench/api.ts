/**
 * `npm run bench -- api`: merchant-API throughput of the pay server on PostgreSQL, next to what the same
 * PostgreSQL does with pgbench's TPC-B-like script and the same number of clients.
 *
 * 1. Two throw-away databases: one for the pay server, one for pgbench (both dropped at the end, also on error
 *    or Ctrl-C).
 * 2. Baseline: `pgbench -i -s 10 -q`, then `pgbench -c <clients> -j 2 -T <seconds> -M prepared`.
 * 3. Setup (not timed): a PaySystem in this process makes a merchant; the pay server runs as `processes` real
 *    processes; payments are created over HTTP and authorized through the service (no HTTP route approves a
 *    payment, by design: approval comes from the payer's device).
 * 4. A warm-up run, then the timed run, by bench/loadgen.ts in a process of its own: each client loops create +
 *    capture (one "payment").
 * 5. The report: payments/s, latencies, non-2xx answers, pgbench TPS, their ratio against the target, and whether
 *    the ledger balanced afterwards.
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
import { forkChild } from "./child.ts";
import type { LoadConfig, LoadMerchant, LoadProtocol, LoadResult } from "./loadgen.ts";
import { openSetupSystem, otherSessionsOf, poolPerProcess, startPayServers } from "./pay-servers.ts";
import {
  createScratchDatabase,
  randomSuffix,
  runPgbench,
  serverUrl,
  serverVersion,
  type PgbenchResult,
} from "./postgres.ts";
import type { Scenario, ScenarioContext } from "./scenario.ts";
import { cpuBetween, cpuSnapshot, type CpuUsage } from "./cpu-usage.ts";
import { startSqlTrace, type SqlTrace, type TraceSnapshot } from "./sql-trace.ts";
import { API_TARGETS, capacityOf, formatCapacity, formatSplit, type Capacity } from "./capacity.ts";
import { renderHtmlReport } from "./html-report.ts";
import { capacityHeadline, capacityReferences, splitParts, writeReportFiles } from "./report-files.ts";
import type { SecondLatency } from "./timeline.ts";

export const TARGET_RATIO = 0.4;
const ORIGIN = "https://bench.example";
const AUTHORIZE_BATCH = 100;
const LOADGEN = fileURLToPath(new URL("./loadgen.ts", import.meta.url));

export interface ApiReport {
  scenario: "api";
  postgresVersion: string;
  cpus: number;
  node: string;
  processes: number;
  merchants: number;
  dbPoolPerProcess: number;
  clients: number;
  seconds: number;
  warmupSeconds: number;
  paymentsPerSecond: number;
  /**
   * The headline (issue 11): the servers' capacity, 2 cores ÷ (pay + PostgreSQL CPU per payment), beside the
   * measured rate, each ÷ pgbench TPS against the target; and the CPU split by process.
   */
  capacity: Capacity;
  /** Payments completed in each second of the timed run. */
  perSecond: number[];
  /** The pairs' p50 / p99 in each of those seconds. */
  latencyPerSecond: SecondLatency[];
  pairs: number;
  elapsedSeconds: number;
  latencyMs: { pair: LoadResult["pair"]; create: LoadResult["create"]; capture: LoadResult["capture"] };
  statuses: LoadResult["statuses"];
  non2xx: number;
  warmupNon2xx: number;
  errorSamples: LoadResult["errorSamples"];
  exhausted: boolean;
  pgbench: PgbenchResult | null;
  ratio: number | null;
  target: number;
  targetMet: boolean | null;
  ledger: { ok: boolean; transactions: number; entries: number; problems: number };
  capturedInDatabase: number;
  capturesAnswered: number;
  setupSeconds: number;
  /** CPU seconds during the timed run by component, and per payment in milliseconds. */
  cpu: CpuUsage & { perPaymentMs: { servers: number; postgres: number; loadgen: number } };
  sqlTrace: (TraceSnapshot & { perPair: number }) | null;
  cpuProfileDir: string | null;
}

/**
 * Creates `count` manual-capture payments over HTTP, `concurrency` at a time, and meanwhile authorizes them through
 * the service, up to AUTHORIZE_BATCH decisions per database transaction (each authorization posts to the same
 * merchant's balance rows, so one transaction per payment would queue on them); returns the authorized ids.
 */
async function preparePayments(
  system: PaySystem,
  urls: string[],
  secretKey: string,
  count: number,
  concurrency: number,
  tag: string,
  progress: (line: string) => void,
): Promise<string[]> {
  const pools = urls.map((url) => new Pool(url, { connections: Math.ceil(concurrency / urls.length), pipelining: 1 }));
  const authorized: string[] = [];
  let waiting: string[] = [];
  let createdAll = false;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const nudge = () => {
    wake?.();
    wake = null;
  };
  let issued = 0;
  let lastNote = performance.now();
  const started = performance.now();

  const creator = async (w: number) => {
    const pool = pools[w % pools.length] as Pool;
    for (let n = issued++; n < count && failure === null; n = issued++) {
      const response = await pool.request({
        path: "/v1/payments",
        method: "POST",
        headers: {
          authorization: `Bearer ${secretKey}`,
          "content-type": "application/json",
          "idempotency-key": `setup-${tag}-${n}`,
        },
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
      if (response.statusCode !== 200)
        throw new Error(`setup: POST /v1/payments answered ${response.statusCode}: ${text.slice(0, 300)}`);
      waiting.push((JSON.parse(text) as { id: string }).id);
      if (waiting.length >= AUTHORIZE_BATCH) nudge();
    }
  };

  const authorizer = async () => {
    for (;;) {
      if (waiting.length === 0) {
        if (createdAll || failure !== null) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 20);
        });
        continue;
      }
      const batch = waiting.slice(0, AUTHORIZE_BATCH);
      waiting = waiting.slice(batch.length);
      await system.database.db.transaction(async (tx) => {
        for (const id of batch)
          await system.payments.recordIssuerDecision(tx, id, {
            approved: true,
            issuerId: "bench",
            authorizationCode: "B",
          });
      });
      authorized.push(...batch);
      const now = performance.now();
      if (now - lastNote > 5000) {
        lastNote = now;
        progress(
          `setup: ${authorized.length}/${count} payments authorized (${Math.round(authorized.length / ((now - started) / 1000))}/s)`,
        );
      }
    }
  };

  const authorizing = authorizer().catch((error: unknown) => {
    failure ??= error;
  });
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, w) => creator(w))).catch((error: unknown) => {
      failure ??= error;
    });
    createdAll = true;
    const createdAt = performance.now();
    nudge();
    await authorizing;
    progress(
      `setup: ${count} payments created in ${((createdAt - started) / 1000).toFixed(1)} s, authorized by ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  if (failure !== null) throw failure;
  return authorized;
}

async function runApi({ options, cleanup, progress }: ScenarioContext): Promise<number> {
  const adminUrl = serverUrl();
  const postgresVersion = await serverVersion(adminUrl);
  const suffix = randomSuffix();
  const dbPool = poolPerProcess(options);

  // 1. Databases.
  let pgbench: PgbenchResult | null = null;
  if (!options.skipPgbench) {
    const pgbenchDb = await createScratchDatabase(adminUrl, `mpay_bench_${suffix}_pgbench`);
    cleanup.add(`drop ${pgbenchDb.name}`, () => pgbenchDb.drop());
    // 2. Baseline first, while nothing else runs.
    pgbench = await runPgbench(pgbenchDb.url, { clients: options.clients, seconds: options.seconds }, progress);
    progress(`pgbench: ${pgbench.tps.toFixed(1)} TPS`);
    await pgbenchDb.drop();
  }
  const payDb = await createScratchDatabase(adminUrl, `mpay_bench_${suffix}`);
  cleanup.add(`drop ${payDb.name}`, () => payDb.drop());

  // 3. Setup: the bench's own PaySystem (merchant, authorizations) and the server processes.
  let setupStarted = performance.now();
  const dataDir = await mkdtemp(join(tmpdir(), "mpay-bench-"));
  cleanup.add(`remove ${dataDir}`, () => rm(dataDir, { recursive: true, force: true }));
  const system = await openSetupSystem(payDb.url, dataDir);
  cleanup.add("close the bench's pay system", () => system.close());
  const secretKeys: string[] = [];
  for (let i = 0; i < options.merchants; i++) {
    const name = options.merchants === 1 ? "Bench Mall" : `Bench Mall ${i + 1}`;
    const created = await system.merchants.create({ name, allowedOrigins: [ORIGIN], actor: "system:bench" });
    secretKeys.push(created.secretKey.peek());
  }

  let trace: SqlTrace | null = null;
  if (options.traceSql) {
    trace = await startSqlTrace(payDb.url);
    const t = trace;
    cleanup.add("close the SQL trace proxy", () => t.close());
  }
  const {
    servers,
    urls,
    pids: serverPids,
    toggleProfilers,
  } = await startPayServers(
    {
      processes: options.processes,
      dbPool,
      databaseUrl: trace ? trace.url : payDb.url,
      dataDir,
      cpuProfileDir: options.cpuProfileDir,
    },
    cleanup,
    progress,
  );

  const generator = forkChild<LoadProtocol>(LOADGEN, "load generator");
  cleanup.add("stop the load generator", () => generator.close());
  const setupConcurrency = Math.max(4, Math.min(32, options.clients));
  /** `total` authorized payments, shared out among the merchants. */
  const supply = async (total: number, tag: string): Promise<LoadMerchant[]> => {
    const out: LoadMerchant[] = [];
    for (const secretKey of secretKeys) {
      const count = Math.ceil(total / secretKeys.length);
      out.push({
        secretKey,
        paymentIds: await preparePayments(
          system,
          urls,
          secretKey,
          count,
          setupConcurrency,
          `${tag}-${out.length}`,
          progress,
        ),
      });
    }
    return out;
  };
  const load = (merchants: LoadMerchant[], seconds: number, runId: string): LoadConfig => ({
    urls,
    merchants,
    clients: options.clients,
    seconds,
    runId: `${suffix}-${runId}`,
    origin: ORIGIN,
  });

  // Warm-up: JIT, connection pools, and an estimate of the rate, to size the timed run's supply of payments.
  let estimate = 0;
  let warmupCaptures = 0;
  let warmupNon2xx = 0;
  if (options.warmupSeconds > 0) {
    const warmIds = await supply(options.warmupSeconds * 300 + options.clients * 10, "warm");
    progress(`warm-up: ${options.warmupSeconds} s`);
    const warm = await generator.request("run", load(warmIds, options.warmupSeconds, "warm"));
    warmupCaptures = warm.statuses.capture["200"] ?? 0;
    warmupNon2xx = warm.non2xx;
    if (warm.non2xx > 0)
      progress(`warm-up: ${warm.non2xx} non-2xx answers, e.g. ${JSON.stringify(warm.errorSamples.slice(0, 3))}`);
    const average = warm.pairs / warm.elapsedSeconds;
    // The first second is slower (JIT, connections): size the supply on the best whole second.
    estimate = Math.max(average, ...warm.perSecond);
    progress(
      `warm-up: ${average.toFixed(0)} payments/s on average, ${estimate.toFixed(0)} in the best second${warm.exhausted ? " (ran out of payments: a lower bound)" : ""}`,
    );
    if (warm.exhausted) estimate *= 2;
  } else {
    estimate = options.clients * 50;
  }
  let needed = Math.ceil(estimate * options.seconds * 2) + options.clients * 10;
  // With --cpu-prof, toggleProfilers starts and then stops the servers' profilers around the run.

  // 4. The timed run. Should it run out of authorized payments (the warm-up underestimated: a noisy machine),
  // it served as a longer warm-up: make more, sized on its own best second, and run again (twice at most).
  let result: LoadResult;
  let cpu: CpuUsage;
  let setupSeconds = 0;
  let earlierCaptures = 0;
  for (let attempt = 1; ; attempt++) {
    progress(`setup: creating and authorizing ${needed} payments`);
    const ids = await supply(needed, `timed${attempt}`);
    setupSeconds += (performance.now() - setupStarted) / 1000;
    trace?.reset();
    progress(`timed run: ${options.clients} clients, ${options.seconds} s`);
    toggleProfilers();
    const cpuBefore = await cpuSnapshot(serverPids, [generator.pid], await otherSessionsOf(system));
    result = await generator.request("run", load(ids, options.seconds, `timed${attempt}`));
    cpu = cpuBetween(cpuBefore, await cpuSnapshot(serverPids, [generator.pid], await otherSessionsOf(system)));
    toggleProfilers();
    if (!result.exhausted || attempt === 3) break;
    earlierCaptures += result.statuses.capture["200"] ?? 0;
    warmupNon2xx += result.non2xx;
    const best = Math.max(result.pairs / result.elapsedSeconds, ...result.perSecond);
    needed = Math.ceil(best * options.seconds * 1.5) + options.clients * 10;
    progress(
      `timed run: the ${ids.reduce((n, m) => n + m.paymentIds.length, 0)} payments ran out after ${result.elapsedSeconds.toFixed(1)} s (${best.toFixed(0)}/s at best); again`,
    );
    setupStarted = performance.now();
  }
  const traced = trace ? trace.snapshot() : null;
  await generator.close();

  // 6. Stop the servers (writing their CPU profiles, if asked), then check the books.
  await Promise.all(servers.map((s) => s.stop()));
  const report = await system.ledger.verify(system.database.db);
  const [captured] = await queryRows<{ n: number }>(
    system.database.db,
    sql`select count(*)::int as n from payments where status = 'captured'`,
  );
  const capturesAnswered = (result.statuses.capture["200"] ?? 0) + warmupCaptures + earlierCaptures;

  const paymentsPerSecond = result.pairs / result.elapsedSeconds;
  const ratio = pgbench ? paymentsPerSecond / pgbench.tps : null;
  const out: ApiReport = {
    scenario: "api",
    postgresVersion,
    cpus: availableParallelism(),
    node: process.version,
    processes: options.processes,
    merchants: options.merchants,
    dbPoolPerProcess: dbPool,
    clients: options.clients,
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds,
    paymentsPerSecond,
    capacity: capacityOf({
      cores: availableParallelism(),
      payments: result.pairs,
      elapsedSeconds: result.elapsedSeconds,
      cpu,
      pgbenchTps: pgbench?.tps ?? null,
      targets: API_TARGETS,
    }),
    perSecond: result.perSecond,
    latencyPerSecond: result.latencyPerSecond,
    pairs: result.pairs,
    elapsedSeconds: result.elapsedSeconds,
    latencyMs: { pair: result.pair, create: result.create, capture: result.capture },
    statuses: result.statuses,
    non2xx: result.non2xx,
    warmupNon2xx,
    errorSamples: result.errorSamples,
    exhausted: result.exhausted,
    pgbench,
    ratio,
    target: TARGET_RATIO,
    targetMet: ratio === null ? null : ratio >= TARGET_RATIO,
    ledger: {
      ok: report.ok,
      transactions: report.transactions,
      entries: report.entries,
      problems: report.problems.length,
    },
    capturedInDatabase: Number(captured?.n ?? 0),
    capturesAnswered,
    setupSeconds,
    cpu: {
      ...cpu,
      perPaymentMs: {
        servers: result.pairs ? (1000 * cpu.serversSeconds) / result.pairs : 0,
        postgres: result.pairs ? (1000 * cpu.postgresSeconds) / result.pairs : 0,
        loadgen: result.pairs ? (1000 * cpu.loadgenSeconds) / result.pairs : 0,
      },
    },
    sqlTrace: traced ? { ...traced, perPair: result.pairs ? traced.roundTrips / result.pairs : 0 } : null,
    cpuProfileDir: options.cpuProfileDir ?? null,
  };
  const text = formatReport(out);
  process.stdout.write(options.json ? JSON.stringify(out, null, 2) + "\n" : text);
  const files = await writeReportFiles("api", out, apiHtml(out, text), { htmlPath: options.html });
  progress(`report: ${files.json} and ${files.html}`);
  // Errors (not a missed target) make the exit code: failed requests, books that do not balance, or a capture
  // answered 200 that the database does not show.
  const ok =
    out.non2xx === 0 && out.warmupNon2xx === 0 && out.ledger.ok && out.capturedInDatabase === out.capturesAnswered;
  return ok ? 0 : 1;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : "–");

const LOADGEN_LABEL = "load generator (HTTP clients)";

function setupLine(r: ApiReport): string {
  return `${r.processes} pay-server process(es) × ${r.dbPoolPerProcess} DB connections · ${r.clients} clients${r.merchants > 1 ? ` over ${r.merchants} merchants` : ""} · ${r.seconds} s timed (after ${r.warmupSeconds} s warm-up)`;
}

/** The HTML page of an `api` run (bench/html-report.ts). */
export function apiHtml(r: ApiReport, text: string): string {
  const c = r.capacity;
  return renderHtmlReport({
    title: "MPay bench · api: create + capture",
    subtitle: `${r.cpus} cores · Node ${r.node} · PostgreSQL ${r.postgresVersion} · ${setupLine(r)}`,
    generatedAt: new Date().toISOString(),
    headline: capacityHeadline(c, "payments", "Load generator"),
    unit: "payments",
    perSecond: r.perSecond,
    latency: r.latencyPerSecond,
    references: capacityReferences(c),
    split: splitParts(c, LOADGEN_LABEL),
    totalSeconds: c.cores * c.elapsedSeconds,
    notes: [
      "One payment = POST /v1/payments + POST /v1/payments/{id}/capture of a pre-authorized payment, as one client sees it.",
      "Capacity = cores ÷ (pay server + PostgreSQL CPU seconds per payment) over the timed run: the rate if the cores did nothing but the servers' work.",
      "The load generator here is plain HTTP (no device cryptography); it, the bench and other people's processes share the same cores, so the measured rate is below the capacity.",
      "A shared machine: the figures are noisy; read the CPU split's 'other processes' to see how much others took.",
    ],
    textReport: text,
  });
}

export function formatReport(r: ApiReport): string {
  const lines = [
    "MPay bench · api: merchant API create + capture over HTTP on PostgreSQL",
    `  machine          ${r.cpus} CPU cores · Node ${r.node} · PostgreSQL ${r.postgresVersion}`,
    `  setup            ${setupLine(r)}`,
    ...formatCapacity(r.capacity, "payments", false),
    `  CPU split        ${formatSplit(r.capacity, "load generator")}`,
    `  payments/s       ${r.paymentsPerSecond.toFixed(1)}   (${r.pairs} create+capture pairs in ${r.elapsedSeconds.toFixed(2)} s)`,
    `  per second       ${r.perSecond.join(" ")}`,
    `  latency (pair)   p50 ${ms(r.latencyMs.pair.p50)} · p99 ${ms(r.latencyMs.pair.p99)} · max ${ms(r.latencyMs.pair.max)}`,
    `  create           p50 ${ms(r.latencyMs.create.p50)} · p99 ${ms(r.latencyMs.create.p99)}`,
    `  capture          p50 ${ms(r.latencyMs.capture.p50)} · p99 ${ms(r.latencyMs.capture.p99)}`,
    `  non-2xx          ${r.non2xx}${r.warmupNon2xx ? ` (and ${r.warmupNon2xx} in the warm-up or a repeated run)` : ""}`,
  ];
  if (r.non2xx > 0) {
    lines.push(
      `    statuses: create ${JSON.stringify(r.statuses.create)} · capture ${JSON.stringify(r.statuses.capture)}`,
    );
    for (const e of r.errorSamples) lines.push(`    ${e.kind} ${e.status || "transport error"}: ${e.body}`);
  }
  if (r.exhausted)
    lines.push(
      "  note             the pre-authorized payments ran out before the deadline: the rate is over the time it ran",
    );
  if (r.pgbench) {
    lines.push(
      `  pgbench          ${r.pgbench.tps.toFixed(1)} TPS   (TPC-B-like, scale ${r.pgbench.scale}, ${r.pgbench.clients} clients, ${r.pgbench.threads} threads, -M prepared, ${r.pgbench.seconds} s${r.pgbench.latencyAverageMs !== null ? `, avg ${r.pgbench.latencyAverageMs.toFixed(1)} ms` : ""})`,
    );
  } else {
    lines.push("  pgbench          skipped (no ratio)");
  }
  lines.push(
    `  ledger           ${r.ledger.ok ? "balanced" : `NOT BALANCED (${r.ledger.problems} problems)`} after the run · ${r.ledger.transactions} transactions, ${r.ledger.entries} entries`,
    `  captured         ${r.capturedInDatabase} payments in the database, ${r.capturesAnswered} captures answered 200 (warm-up and repeated runs included)${r.capturedInDatabase === r.capturesAnswered ? "" : ": MISMATCH"}`,
    `  setup time       ${r.setupSeconds.toFixed(1)} s (not timed)`,
    `  CPU (timed run)  pay servers ${r.cpu.serversSeconds.toFixed(1)} s · PostgreSQL ${r.cpu.postgresSeconds.toFixed(1)} s · load generator ${r.cpu.loadgenSeconds.toFixed(1)} s · bench ${r.cpu.benchSeconds.toFixed(1)} s · interrupts ${r.cpu.irqSeconds.toFixed(1)} s · other processes ${r.cpu.otherSeconds.toFixed(1)} s · steal ${r.cpu.stealSeconds.toFixed(1)} s · machine ${(100 * r.cpu.machineBusyShare).toFixed(0)} % busy`,
    `  CPU per payment  pay servers ${r.cpu.perPaymentMs.servers.toFixed(2)} ms · PostgreSQL ${r.cpu.perPaymentMs.postgres.toFixed(2)} ms · load generator ${r.cpu.perPaymentMs.loadgen.toFixed(2)} ms (plain HTTP clients: no device cryptography in this scenario)`,
  );
  if (r.sqlTrace) {
    const t = r.sqlTrace;
    lines.push(
      `  SQL trace        ${t.roundTrips} round trips to PostgreSQL = ${t.perPair.toFixed(2)} per payment (the proxy costs CPU: throughput above is not comparable)`,
      "    count   avg ms  statement",
    );
    for (const s of t.statements.slice(0, 15))
      lines.push(
        `    ${String(s.count).padStart(6)}  ${(s.totalMs / s.count).toFixed(2).padStart(6)}  ${s.sql.slice(0, 110)}`,
      );
  }
  if (r.cpuProfileDir) lines.push(`  CPU profiles     ${r.cpuProfileDir} (open in Chrome DevTools or speedscope)`);
  return lines.join("\n") + "\n";
}

export const apiScenario: Scenario = {
  summary: "merchant API create + capture over HTTP vs. pgbench TPC-B on the same PostgreSQL",
  run: runApi,
};
