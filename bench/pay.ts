/**
 * `npm run bench -- pay`: the whole approval path of a device payment (issue 4, "Benchmark") on PostgreSQL — the
 * challenge, the PIN login, the approval that releases the card to the device, the device combining the shares and
 * building the sign-then-encrypt JWE, the issuer's decision and the pay server's ledger posting — with N simulated
 * devices, next to the raw cost of the cryptography it rests on, measured in the same run.
 *
 * 1. The pgbench baseline first, while nothing else runs, on a throw-away database of its own (as `api`; skipped
 *    with --skip-pgbench). Two throw-away databases, the pay server's and the issuer host's (a schema per issuer),
 *    dropped at the end (also on error or Ctrl-C).
 * 2. Setup (not timed): a PaySystem in this process makes a merchant and opens a session for each synthetic payer
 *    (the messenger sign-in is not what is measured); the pay server runs as `processes` real processes and the
 *    issuer host as one more (bench/issuer-host.ts: services/issuer with its three default issuers); the load
 *    generator processes bind a device and set a PIN for each payer over HTTP, then enroll a card for each at the
 *    issuer through the pay server (the JWE, the one-time code from the simulator's test inbox, the sealed records
 *    and K_srv), over the nine test cards that approve.
 * 3. The primitives, on one thread of this process while nothing else runs (bench/primitives.ts,
 *    bench/pay-primitives.ts).
 * 4. Payments created over the merchant API; a warm-up, then the timed run: each virtual device pays the next
 *    payment, from the challenge to the issuer's answer (bench/pay-wallet.ts). Should the payments run out, the run
 *    counts as a longer warm-up and is repeated with more (twice at most).
 * 5. The report, and checks in both databases: every payment answered `authorized` is authorized in the pay
 *    server's database and approved in the issuer's books, nothing is declined or left pending, the ledger and the
 *    issuers' books balance. Failed requests, declines or a failed check make the exit code non-zero.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import pg from "pg";
import { queryRows } from "../services/pay/src/db/client.ts";
import type { PaySystem } from "../services/pay/src/system.ts";
import { schemaNameOf } from "../services/issuer/src/db/client.ts";
import { freePorts, startMessengerProcess } from "../e2e/support/messenger-process.ts";
import { createAccount } from "../services/messenger/src/testing/rp.ts";
import { startServiceProcess, type ServiceProcess } from "../e2e/support/service-process.ts";
import { phaseReport } from "./auth-report.ts";
import { BENCH_KEY_STRETCHING, type BenchPayer } from "./auth-wallet.ts";
import type { CardEnrollment, PayLoadProtocol, PayLoadResult } from "./pay-loadgen.ts";
import { measurePayPrimitives } from "./pay-primitives.ts";
import { measureDevicePrimitives } from "./device-primitives.ts";
import { checksPass, formatPayReport, payCrypto, stepReports, type PayChecks, type PayReport } from "./pay-report.ts";
import { approvingTestCards, type IssuerTestCard } from "./pay-wallet.ts";
import { fixtureIssuerEnv, testRootSigner } from "../services/issuer/src/testing/fixtures.ts";
import { certifyStatementKey } from "../services/pay/src/testing/statement-key.ts";
import { benchPreloads, openSetupSystem, poolPerProcess, startPayServers } from "./pay-servers.ts";
import {
  createScratchDatabase,
  randomSuffix,
  runPgbench,
  serverUrl,
  serverVersion,
  type PgbenchResult,
  type ScratchDatabase,
} from "./postgres.ts";
import { capacityOf, PASSKEY_PATH_TARGETS, PIN_PATH_TARGETS } from "./capacity.ts";
import { payHtml } from "./pay-report.ts";
import { relyingPartyEnv } from "./pay-passkey.ts";
import { seedEnrolled } from "./bulk-seed.ts";
import { explainStatements } from "./explain.ts";
import { formatSizes, sizesJson } from "./size-report.ts";
import { OPEN_LOOP_SHARE_OF_SATURATION, openLoopReport, type OpenLoopReport } from "./open-loop-report.ts";
import { writeReportFiles } from "./report-files.ts";
import { latencyPerSecond } from "./timeline.ts";
import { measurePrimitives } from "./primitives.ts";
import type { BenchOptions, Scenario, ScenarioContext } from "./scenario.ts";
import { startSqlTrace, type SqlTrace, type TraceSnapshot } from "./sql-trace.ts";
import { mergeResults } from "./wallet-load.ts";
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

const LOADGEN = new URL("./pay-loadgen.ts", import.meta.url);
const ISSUER_HOST = fileURLToPath(new URL("./issuer-host.ts", import.meta.url));
/** PostgreSQL allows 100 connections; the pay servers, the issuer host and the bench process stay below this. */
const CONNECTION_BUDGET = 89;
/** Payment amounts in KRW: small, so that a run stays far within the test cards' credit limits (3 to 10 million). */
const amountOf = (n: number) => 100 + (n % 900);

/** The loopback address synthetic phone `i` sends from (Linux routes all of 127.0.0.0/8 to the loopback). */
function phoneAddress(i: number): string {
  return `127.77.${Math.floor(i / 250) % 256}.${(i % 250) + 1}`;
}

/** Several generators' results of one run as one (bench/wallet-load.ts), with what the payments came to. */
function mergePay(results: PayLoadResult[]): PayLoadResult {
  const declines: Record<string, number> = {};
  for (const r of results)
    for (const [code, n] of Object.entries(r.declines)) declines[code] = (declines[code] ?? 0) + n;
  return { ...mergeResults(results), authorizedIds: results.flatMap((r) => r.authorizedIds), declines };
}

/**
 * Each payer's card enrolled at the issuer: payer i gets card i mod cards, from its own loopback address. Every
 * round holds each card once (its one-time code is read from its phone's inbox), spread over the generators
 * (payer i lives in generator i mod loadgens).
 */
async function enrollCards(
  generators: Generators<PayLoadProtocol>,
  url: string,
  issuerUrl: string,
  payers: BenchPayer[],
  cards: IssuerTestCard[],
): Promise<void> {
  const loadgens = generators.children.length;
  for (let round = 0; round * cards.length < payers.length; round++) {
    const enrollments = payers
      .map((payer, i) => ({
        i,
        enrollment: {
          payerId: payer.payerId,
          card: cards[i % cards.length] as IssuerTestCard,
          localAddress: phoneAddress(i),
        } satisfies CardEnrollment,
      }))
      .filter(({ i }) => Math.floor(i / cards.length) === round);
    await Promise.all(
      generators.children.map(({ child }, g) =>
        child.request("cards", {
          url,
          issuerUrl,
          enrollments: enrollments.filter(({ i }) => i % loadgens === g).map(({ enrollment }) => enrollment),
        }),
      ),
    );
  }
}

/** What the issuers' books say of the payments: approved among `answered`, declined in all, and whether they balance. */
async function issuerChecks(
  issuerDb: ScratchDatabase,
  issuerUrl: string,
  operatorToken: string,
  issuerIds: string[],
  answered: Set<string>,
) {
  const client = new pg.Client({ connectionString: issuerDb.url });
  await client.connect();
  let approvedAtIssuer = 0;
  let declinedAtIssuer = 0;
  try {
    for (const id of issuerIds) {
      const { rows } = await client.query<{ payment_id: string; decision: string }>(
        `select payment_id, decision from ${schemaNameOf(id)}.authorizations`,
      );
      for (const row of rows) {
        if (row.decision === "approved" && answered.has(row.payment_id)) approvedAtIssuer++;
        if (row.decision !== "approved") declinedAtIssuer++;
      }
    }
  } finally {
    await client.end();
  }
  let issuerImbalances = 0;
  let issuerBooksBalanced = true;
  for (const id of issuerIds) {
    const response = await fetch(`${issuerUrl}/issuers/${id}/backoffice/books`, {
      headers: { authorization: `Bearer ${operatorToken}` },
    });
    if (!response.ok) throw new Error(`GET /issuers/${id}/backoffice/books answered ${response.status}`);
    const books = (await response.json()) as { balanced: boolean; imbalances: unknown[] };
    issuerBooksBalanced &&= books.balanced;
    issuerImbalances += books.imbalances.length;
  }
  return { approvedAtIssuer, declinedAtIssuer, issuerBooksBalanced, issuerImbalances };
}

/** `count` setup calls, `concurrency` at a time, results in order. */
async function inParallelSetup<T>(count: number, concurrency: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) out[i] = await make(i);
    }),
  );
  return out;
}

/** What the pay server's database says of the payments answered `authorized`. */
async function payChecks(system: PaySystem, answered: Set<string>) {
  const db = system.database.db;
  const authorized = await queryRows<{ id: string }>(db, sql`select id from payments where status = 'authorized'`);
  const count = async (query: ReturnType<typeof sql>) => Number((await queryRows<{ n: number }>(db, query))[0]?.n ?? 0);
  const ledger = await system.ledger.verify(db);
  return {
    authorizedInPayDb: authorized.filter((r) => answered.has(r.id)).length,
    authorizedUnanswered: authorized.filter((r) => !answered.has(r.id)).length,
    declinedInPayDb: await count(sql`select count(*)::int as n from payments where status = 'declined'`),
    issuerOperationsPending: await count(
      sql`select count(*)::int as n from issuer_operations where status = 'pending'`,
    ),
    announcementsDelivered: await count(sql`select count(*)::int as n from announcements where status = 'delivered'`),
    announcementsUndelivered: await count(
      sql`select count(*)::int as n from announcements where status <> 'delivered'`,
    ),
    ledger: {
      ok: ledger.ok,
      transactions: ledger.transactions,
      entries: ledger.entries,
      problems: ledger.problems.length,
    },
  };
}

function checkOptions(options: BenchOptions, payerCount: number): void {
  if (payerCount < options.clients)
    throw new Error(
      `--payers ${payerCount} is fewer than --clients ${options.clients}: a payer has one PIN login at a time, so each client needs its own`,
    );
  if (options.loadgens > options.clients)
    throw new Error(`--loadgens ${options.loadgens} is more than --clients ${options.clients}`);
  if (payerCount > 250 * 256)
    throw new Error(`--payers ${payerCount}: at most ${250 * 256} (one loopback address each)`);
}

async function runPay(context: ScenarioContext, enrolled: number): Promise<{ code: number; report: PayReport }> {
  const { options, cleanup, progress } = context;
  const payerCount = options.payers ?? options.clients * 2;
  checkOptions(options, payerCount);
  const cards = approvingTestCards();
  const issuerIds = [...new Set(cards.map((c) => c.issuerId))];
  const dbPool = poolPerProcess(options);
  const issuerPool = Math.max(2, Math.ceil(options.clients / issuerIds.length));
  // The bench's own PaySystem and pg clients, and the messenger's 3.
  const connections = dbPool * options.processes + issuerPool * issuerIds.length + 8;
  if (connections > CONNECTION_BUDGET)
    throw new Error(
      `${connections} PostgreSQL connections (pay servers, issuer host, bench) would pass ${CONNECTION_BUDGET}: use fewer --clients or a smaller --pool`,
    );
  const adminUrl = serverUrl();
  const postgresVersion = await serverVersion(adminUrl);
  const suffix = randomSuffix();
  const cpus = availableParallelism();

  // 1. The baseline, while nothing else runs; then the databases.
  let pgbench: PgbenchResult | null = null;
  if (!options.skipPgbench) {
    const pgbenchDb = await createScratchDatabase(adminUrl, `mpay_bench_${suffix}_pgbench`);
    cleanup.add(`drop ${pgbenchDb.name}`, () => pgbenchDb.drop());
    pgbench = await runPgbench(pgbenchDb.url, { clients: options.clients, seconds: options.seconds }, progress);
    progress(`pgbench: ${pgbench.tps.toFixed(1)} TPS`);
    await pgbenchDb.drop();
  }
  const payDb = await createScratchDatabase(adminUrl, `mpay_bench_${suffix}`);
  cleanup.add(`drop ${payDb.name}`, () => payDb.drop());
  const issuerDb = await createScratchDatabase(adminUrl, `mpay_bench_${suffix}_issuer`);
  cleanup.add(`drop ${issuerDb.name}`, () => issuerDb.drop());
  const messengerDb = await createScratchDatabase(adminUrl, `mpay_bench_${suffix}_messenger`);
  cleanup.add(`drop ${messengerDb.name}`, () => messengerDb.drop());

  // 2. Setup.
  const setupStarted = performance.now();
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
  // The real messenger (services/messenger, as `npm start` runs it): each payer is a messenger account, and the pay
  // server sends MPay's messages (the receipt after each approved payment) to it, as in production.
  const messengerSecret = randomBytes(32).toString("base64url");
  const [messengerPort] = (await freePorts(1)) as [number];
  progress("starting the messenger");
  const messenger = await startMessengerProcess({
    MESSENGER_PORT: String(messengerPort),
    MESSENGER_DATA_DIR: join(dataDir, "messenger"),
    MESSENGER_DATABASE_URL: messengerDb.url,
    MESSENGER_DB_POOL: "3",
    MESSENGER_PAY_CLIENT_SECRET: messengerSecret,
    MESSENGER_SIGNUP_RATE_LIMIT_PER_MINUTE: String(payerCount + 10),
    LOG_LEVEL: "warn",
  });
  cleanup.add("stop the messenger", () => messenger.stop());
  const accounts = await inParallelSetup(payerCount, 4, (i) => createAccount(messenger.url, `Bench Payer ${i + 1}`));
  const payers = await signInPayers(
    system,
    payerCount,
    suffix,
    accounts.map((a) => a.id),
  );
  // The test network certifies the servers' PIN-statement key (one key for every process: same database and key file).
  await certifyStatementKey(system, await testRootSigner());

  let trace: SqlTrace | null = null;
  let issuerTrace: SqlTrace | null = null;
  if (options.traceSql) {
    const [t, i] = [await startSqlTrace(payDb.url), await startSqlTrace(issuerDb.url)];
    cleanup.add("close the SQL trace proxies", () => Promise.all([t.close(), i.close()]));
    [trace, issuerTrace] = [t, i];
  }
  const acquirerSecret = randomBytes(32).toString("base64url");
  const operatorToken = randomBytes(32).toString("base64url");
  // The issuer host's port is chosen first: the pay servers are told it, then the host is told their keys' URL.
  const [issuerPort] = (await freePorts(1)) as [number];
  const issuerUrl = `http://127.0.0.1:${issuerPort}`;
  const servers = await startPayServers(
    {
      processes: options.processes,
      dbPool,
      databaseUrl: trace ? trace.url : payDb.url,
      dataDir,
      cpuProfileDir: options.cpuProfileDir,
      // An hour to approve (15 minutes by default), so that no payment made during setup expires before its turn.
      env: {
        MPAY_APPROVAL_TTL_SECONDS: "3600",
        MPAY_ISSUER_URL: issuerUrl,
        MPAY_ISSUER_ACQUIRER_SECRET: acquirerSecret,
        MESSENGER_ISSUER: messenger.url,
        MPAY_MESSENGER_CLIENT_SECRET: messengerSecret,
        ...relyingPartyEnv("MPAY"),
      },
    },
    cleanup,
    progress,
  );
  const urls = servers.urls;
  progress(`starting the issuer host (${issuerIds.join(", ")}), ${issuerPool} database connections per issuer`);
  const issuer: ServiceProcess = await startServiceProcess("issuer host", ISSUER_HOST, {
    ISSUER_PORT: String(issuerPort),
    ISSUER_HOST: "127.0.0.1",
    ...fixtureIssuerEnv(issuerIds),
    ISSUER_DATABASE_URL: issuerTrace ? issuerTrace.url : issuerDb.url,
    ISSUER_DATA_DIR: join(dataDir, "issuer"),
    ISSUER_DB_POOL: String(issuerPool),
    ISSUER_ACQUIRER_SECRET: acquirerSecret,
    ISSUER_OPERATOR_TOKEN: operatorToken,
    LOG_LEVEL: "warn",
    ...relyingPartyEnv("ISSUER"),
    MPAY_BENCH_CODES_PER_CARD: String(Math.ceil(payerCount / cards.length) + 5),
    ...benchPreloads(options.cpuProfileDir),
  });
  cleanup.add("stop the issuer host", () => issuer.stop());

  const generators = forkGenerators<PayLoadProtocol>(LOADGEN, options, context);
  await bindPayers(generators, urls, payers, options.clients, progress);
  if (options.method === "passkey") {
    const t0 = performance.now();
    await Promise.all(generators.children.map(({ child }) => child.request("passkeys", { urls })));
    progress(
      `setup: ${payers.length} passkeys registered (the wallet's WebAuthn registration) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  const started = performance.now();
  await enrollCards(generators, urls[0] as string, issuerUrl, payers, cards);
  progress(
    `setup: ${payers.length} cards enrolled at the issuers (${cards.length} test cards) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  if (enrolled > 0) {
    progress(`setup: seeding ${enrolled} more payers with a device and a card in bulk (pay server and issuers)`);
    const seconds = await seedEnrolled({
      payDbUrl: payDb.url,
      issuerDbUrl: issuerDb.url,
      issuerIds,
      templatePayerId: (payers[0] as BenchPayer).payerId,
      count: enrolled,
      progress,
    });
    progress(`setup: ${enrolled} bulk payers seeded in ${seconds.toFixed(1)} s`);
  }
  let setupSeconds = (performance.now() - setupStarted) / 1000;

  // 3. Primitives, while the servers and load generators are idle.
  progress(
    "primitives: ECDSA P-256 verify, OPAQUE server login, JWE encrypt and decrypt, the issuer's decrypt + verify, ES256 sign, a device's crypto per payment",
  );
  const primitives = await measurePrimitives(BENCH_KEY_STRETCHING);
  const payPrimitives = await measurePayPrimitives();
  const devicePrimitives = await measureDevicePrimitives();
  const crypto = payCrypto(primitives, payPrimitives, options.method);

  // 4. Payments: warm-up, then the timed run.
  const answered = new Set<string>();
  let issuerSql: TraceSnapshot | null = null;
  const allDeclines: Record<string, number> = {};
  let payAmounts = 0;
  let openNon2xx = 0;
  const smallestLimit = Math.min(...cards.map((c) => c.creditLimit));
  const mostPayersOnACard = Math.ceil(payerCount / cards.length);
  const run = async (ids: string[], seconds: number) =>
    mergePay(
      (
        await runGenerators(generators, ids, options.clients, (child, share) =>
          child.request("run", { urls, seconds, method: options.method, ...share }),
        )
      ).results,
    );
  const setupConcurrency = Math.max(4, Math.min(32, options.clients));
  const createSupply = async (count: number, tag: string): Promise<string[]> => {
    // Every payment may be approved (and held at the issuer): the busiest card must be able to hold its share.
    for (let n = 0; n < count; n++) payAmounts += amountOf(n);
    if ((payAmounts * mostPayersOnACard * 1.5) / payerCount > smallestLimit) {
      throw new Error(
        `setup: ${payAmounts} KRW of payments could pass a test card's credit limit (${smallestLimit} KRW): use fewer --seconds or more --payers`,
      );
    }
    return createPayments(urls, secretKey, {
      count,
      concurrency: setupConcurrency,
      tag,
      amount: amountOf,
      captureMethod: "manual",
    });
  };
  const supply = await runOnSupply<PayLoadResult>({
    estimate: Math.max(20, options.clients * 3),
    warmupSeconds: options.warmupSeconds,
    seconds: options.seconds,
    clients: options.clients,
    label: "payments",
    create: createSupply,
    run,
    timed: async (ids) => {
      issuerTrace?.reset();
      const measured = await measureRun({ servers, loadgenPids: generators.pids, issuer, system, trace }, () =>
        run(ids, options.seconds),
      );
      issuerSql = issuerTrace ? issuerTrace.snapshot() : null;
      return measured;
    },
    onRun: (r) => {
      for (const id of r.authorizedIds) answered.add(id);
      for (const [code, n] of Object.entries(r.declines)) allDeclines[code] = (allDeclines[code] ?? 0) + n;
    },
    progress,
  });
  setupSeconds += supply.setupSeconds;
  const timed = supply.timed;
  const payments = phaseReport({
    mode: "payments",
    result: timed.result,
    warmupNon2xx: supply.warmupNon2xx,
    cpu: timed.cpu,
    eventLoops: timed.eventLoops,
    cpus,
    processes: options.processes,
    cryptoMicroseconds: crypto.payServerMicroseconds + crypto.issuerMicroseconds,
    sqlTrace: timed.sqlTrace,
  });
  progress(`payments: ${payments.rate.toFixed(1)} approved/s`);

  // 4b. Open loop (--rate): arrivals on a fixed schedule at N/s, or at 80 % of the closed loop's rate.
  let openLoop: OpenLoopReport | null = null;
  if (options.rate !== undefined) {
    const auto = options.rate === "auto";
    const rate = auto ? OPEN_LOOP_SHARE_OF_SATURATION * payments.rate : (options.rate as number);
    if (!(rate > 0)) throw new Error("open loop: the closed loop approved nothing, so there is no rate to run at");
    const ids = await createSupply(Math.ceil(rate * options.seconds * 1.1) + 10, "open");
    progress(`open loop: ${rate.toFixed(1)} payments/s for ${options.seconds} s over ${payerCount} payers`);
    const loadgens = generators.children.length;
    const open = await measureRun({ servers, loadgenPids: generators.pids, issuer, system, trace: null }, async () => {
      const results = await Promise.all(
        generators.children.map(({ child }, g) =>
          child.request("open", {
            urls,
            method: options.method,
            rate: (rate * payers.filter((_, i) => i % loadgens === g).length) / payerCount,
            seconds: options.seconds,
            paymentIds: ids.filter((_, j) => j % loadgens === g),
          }),
        ),
      );
      return results;
    });
    const merged = mergePay(open.result);
    for (const id of merged.authorizedIds) answered.add(id);
    for (const [code, n] of Object.entries(merged.declines)) allDeclines[code] = (allDeclines[code] ?? 0) + n;
    const schedules = open.result.map((r) => r.schedule);
    openLoop = openLoopReport({
      rate,
      auto,
      saturationPerSecond: payments.rate,
      seconds: options.seconds,
      result: {
        ...merged,
        schedule: {
          rate,
          scheduled: schedules.reduce((a, x) => a + x.scheduled, 0),
          started: schedules.reduce((a, x) => a + x.started, 0),
          late: schedules.reduce((a, x) => a + x.late, 0),
          unstarted: schedules.reduce((a, x) => a + x.unstarted, 0),
          maxBacklog: schedules.reduce((a, x) => a + x.maxBacklog, 0),
          startDelayP99Ms: Math.max(...schedules.map((x) => x.startDelayP99Ms)),
        },
      },
      cpu: open.cpu,
    });
    openNon2xx = merged.non2xx;
    progress(`open loop: approval p99 ${openLoop.pathMs.p99.toFixed(1)} ms at ${rate.toFixed(1)}/s`);
  }

  // 5. Stop the load and the pay servers, then check what the databases hold (the issuer answers its books).
  await Promise.all(generators.children.map((g) => g.child.close()));
  await Promise.all(servers.servers.map((s) => s.stop()));
  const checks: PayChecks = {
    authorizedAnswered: answered.size,
    ...(await payChecks(system, answered)),
    ...(await issuerChecks(issuerDb, issuerUrl, operatorToken, issuerIds, answered)),
  };
  await issuer.stop();
  await messenger.stop();
  // With --trace-sql: the generic plan of each hot statement, on the databases at their size (bulk rows included).
  let explained: PayReport["explained"] = null;
  if (timed.sqlTrace && issuerSql) {
    progress("EXPLAIN of the hot statements (pay server, issuer host)");
    explained = {
      pay: await explainStatements(payDb.url, timed.sqlTrace.statements),
      issuer: await explainStatements(issuerDb.url, (issuerSql as TraceSnapshot).statements, {
        searchPath: schemaNameOf(issuerIds[0] as string),
      }),
    };
  }

  const { steps, unaccountedShare } = stepReports(timed.result, timed.serverHttp, timed.issuerHttp, options.method);
  const warmupDeclines = { ...allDeclines };
  for (const [code, n] of Object.entries(timed.result.declines)) warmupDeclines[code] = (warmupDeclines[code] ?? 0) - n;
  const report: PayReport = {
    scenario: "pay",
    postgresVersion,
    cpus,
    node: process.version,
    processes: options.processes,
    dbPoolPerProcess: dbPool,
    issuers: issuerIds,
    issuerDbPoolPerIssuer: issuerPool,
    cards: cards.length,
    clients: options.clients,
    loadgens: options.loadgens,
    payers: payerCount,
    enrolled,
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds,
    method: options.method,
    keyStretching: BENCH_KEY_STRETCHING,
    primitives,
    payPrimitives,
    devicePrimitives,
    crypto,
    pgbench,
    capacity: capacityOf({
      cores: cpus,
      payments: payments.ops,
      elapsedSeconds: payments.elapsedSeconds,
      cpu: timed.cpu,
      pgbenchTps: pgbench?.tps ?? null,
      targets: options.method === "passkey" ? PASSKEY_PATH_TARGETS : PIN_PATH_TARGETS,
    }),
    latencyPerSecond: latencyPerSecond(timed.result.opMs, timed.result.opSecond, timed.result.perSecond.length),
    payments,
    steps,
    unaccountedShare,
    deviceShare: steps.filter((s) => s.side === "device").reduce((a, s) => a + s.share, 0),
    serverShare: steps.filter((s) => s.side === "server").reduce((a, s) => a + s.share, 0),
    issuerCoreShare: timed.result.elapsedSeconds > 0 ? timed.cpu.issuerSeconds / timed.result.elapsedSeconds : 0,
    issuerEventLoopBusy: timed.issuerEventLoop,
    issuerSqlTrace:
      issuerSql === null
        ? null
        : {
            ...(issuerSql as TraceSnapshot),
            perOp: payments.ops ? (issuerSql as TraceSnapshot).roundTrips / payments.ops : 0,
          },
    declines: timed.result.declines,
    warmupDeclines: Object.fromEntries(Object.entries(warmupDeclines).filter(([, n]) => n > 0)),
    openLoop,
    explained,
    checks,
    setupSeconds,
    cpuProfileDir: options.cpuProfileDir ?? null,
    issuerPid: issuer.child.pid ?? null,
  };
  const text = formatPayReport(report);
  process.stdout.write(options.json ? JSON.stringify(report, null, 2) + "\n" : text);
  const files = await writeReportFiles("pay", report, payHtml(report, text), { htmlPath: options.html });
  progress(`report: ${files.json} and ${files.html}`);
  // Errors (not a missed figure) make the exit code: failed requests, declines, or databases that disagree.
  const declined = Object.values(allDeclines).reduce((a, b) => a + b, 0);
  const ok = payments.non2xx + payments.warmupNon2xx + openNon2xx === 0 && declined === 0 && checksPass(checks);
  return { code: ok ? 0 : 1, report };
}

/**
 * One run, or (--enrolled with several sizes) one run per size, each in a process of its own (`bench/run.ts pay
 * --enrolled N --json`, the other options as given: fresh databases, fresh servers, a fresh heap), and the sizes
 * side by side.
 */
async function runPayScenario(context: ScenarioContext): Promise<number> {
  const sizes = context.options.enrolled;
  if (sizes.length <= 1) return (await runPay(context, sizes[0] ?? 0)).code;
  const runs: Array<{ enrolled: number; report: PayReport }> = [];
  let code = 0;
  for (const enrolled of sizes) {
    context.progress(`--- run with ${enrolled} bulk-enrolled payers (a process of its own) ---`);
    const run = await runSizeProcess(enrolled, context.progress);
    code = Math.max(code, run.code);
    if (run.report) runs.push({ enrolled, report: run.report });
    else code = Math.max(code, 1);
  }
  process.stdout.write(
    context.options.json
      ? JSON.stringify(sizesJson(runs), null, 2) + "\n"
      : runs.map((r) => formatPayReport(r.report)).join("\n") + formatSizes(runs),
  );
  return code;
}

/** `bench/run.ts pay` with this process's arguments but `--enrolled <enrolled> --json`; its report and exit code. */
function runSizeProcess(
  enrolled: number,
  progress: (line: string) => void,
): Promise<{ code: number; report: PayReport | null }> {
  const args = process.argv.slice(2);
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--enrolled" || arg === "--html") i++;
    else if (!arg.startsWith("--enrolled=") && !arg.startsWith("--html=") && arg !== "--json") kept.push(arg);
  }
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(new URL("./run.ts", import.meta.url)),
      ...kept,
      "--enrolled",
      String(enrolled),
      "--json",
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => {
      try {
        resolve({ code: code ?? 1, report: JSON.parse(out) as PayReport });
      } catch {
        progress(`the run with ${enrolled} bulk payers printed no report (exit code ${code})`);
        resolve({ code: code ?? 1, report: null });
      }
    });
  });
}

export const payScenario: Scenario = {
  summary: "device payments end to end: challenge, PIN, release, device JWE, issuer decision, ledger",
  run: runPayScenario,
};
