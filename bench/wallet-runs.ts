/**
 * The parent's side of the wallet scenarios (`auth`, `pay`): synthetic payers signed in through the service,
 * payments created over the merchant API, load generator processes forked and given their share of the users,
 * timed runs measured (CPU by component, event loops, profiles, SQL trace), and the supply of payments sized from
 * the warm-up and topped up when a timed run ran out of them.
 */
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import type { PaySystem } from "../services/pay/src/system.ts";
import { forkChild, type BenchChild, type Protocol } from "./child.ts";
import type { BenchPayer } from "./auth-wallet.ts";
import { cpuBetween, cpuSnapshot, type CpuUsage } from "./cpu-usage.ts";
import {
  askEventLoop,
  askHttpTimes,
  eventLoopBusy,
  otherSessionsOf,
  type EventLoopTimes,
  type HttpTimes,
  type PayServers,
} from "./pay-servers.ts";
import type { ServiceProcess } from "../e2e/support/service-process.ts";
import type { ScenarioContext } from "./scenario.ts";
import type { SqlTrace, TraceSnapshot } from "./sql-trace.ts";
import { bestRate, mergeResults, type BindConfig, type WalletLoadResult } from "./wallet-load.ts";

/** The bench merchant's registered origin (returnUrl and cancelUrl must be on it). */
export const ORIGIN = "https://bench.example";

/** Creates `count` payments over the merchant API, `concurrency` at a time; returns their ids in order. */
export async function createPayments(
  urls: string[],
  secretKey: string,
  payment: {
    count: number;
    concurrency: number;
    tag: string;
    amount: (n: number) => number;
    captureMethod: "manual" | "automatic";
  },
): Promise<string[]> {
  const { count, concurrency, tag } = payment;
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
            headers: {
              authorization: `Bearer ${secretKey}`,
              "content-type": "application/json",
              "idempotency-key": `setup-${tag}-${n}`,
            },
            body: JSON.stringify({
              amount: payment.amount(n),
              currency: "KRW",
              orderId: `setup-${tag}-${n}`,
              itemName: "Bench item",
              returnUrl: `${ORIGIN}/done`,
              cancelUrl: `${ORIGIN}/cart`,
              captureMethod: payment.captureMethod,
            }),
          });
          const text = await response.body.text();
          if (response.statusCode !== 200)
            throw new Error(`setup: POST /v1/payments answered ${response.statusCode}: ${text.slice(0, 300)}`);
          ids[n] = (JSON.parse(text) as { id: string }).id;
        }
      }),
    );
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  return ids;
}

/**
 * Opens a session for each synthetic payer, through the service (as a messenger sign-in would end). `subjects`:
 * the payers' messenger account ids (`pay` makes real accounts, so MPay's messages to them are delivered).
 */
export async function signInPayers(
  system: PaySystem,
  count: number,
  suffix: string,
  subjects?: readonly string[],
): Promise<BenchPayer[]> {
  const payers = new Array<BenchPayer>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = next++; i < count; i = next++) {
        const session = await system.payers.openSession({
          subject: subjects?.[i] ?? `bench_${suffix}_${i}`,
          displayName: `Bench Payer ${i + 1}`,
          phoneNumber: null,
        });
        payers[i] = { payerId: session.payer.id, sessionToken: session.sessionToken.peek() };
      }
    }),
  );
  return payers;
}

/** The load generators, each with its share of the clients (a contiguous range of indices). */
export interface Generators<P extends Protocol> {
  children: Array<{ child: BenchChild<P>; firstClient: number; clients: number }>;
  pids: Array<number | undefined>;
}

/** Forks `loadgens` load generators running `file` (a module that calls `serveParent`), each stopped by cleanup. */
export function forkGenerators<P extends Protocol>(
  file: URL,
  options: { clients: number; loadgens: number },
  context: ScenarioContext,
): Generators<P> {
  const children: Generators<P>["children"] = [];
  let firstClient = 0;
  for (let g = 0; g < options.loadgens; g++) {
    const clients = Math.ceil((options.clients - g) / options.loadgens);
    const child = forkChild<P>(fileURLToPath(file), `load generator ${g + 1}`);
    context.cleanup.add(`stop load generator ${g + 1}`, () => child.close());
    children.push({ child, firstClient, clients });
    firstClient += clients;
  }
  return { children, pids: children.map((c) => c.child.pid) };
}

/** What every wallet load generator answers: `enroll` binds a device and sets a PIN for each payer it is given. */
export type BindProtocol = { enroll: { body: BindConfig; result: { enrolled: number } } };

/** Has each generator bind a device and set a PIN for its payers (payer i → generator i mod generators). */
export async function bindPayers(
  generators: Generators<BindProtocol>,
  urls: string[],
  payers: BenchPayer[],
  clients: number,
  progress: (line: string) => void,
): Promise<void> {
  const loadgens = generators.children.length;
  const started = performance.now();
  const concurrency = Math.max(2, Math.min(16, Math.ceil(clients / loadgens)));
  // Each generator gets at least as many payers as clients (payers ≥ clients).
  await Promise.all(
    generators.children.map(({ child }, g) =>
      child.request("enroll", { urls, payers: payers.filter((_, i) => i % loadgens === g), concurrency }),
    ),
  );
  progress(
    `setup: ${payers.length} payers bound a device and set a PIN in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

/** A generator's share of one run: its users, and the payments of its users (payment j goes to client j mod clients). */
export interface RunShare {
  firstClient: number;
  clients: number;
  paymentIds: string[];
}

/** One run of every generator at once, their results merged. */
export async function runGenerators<P extends Protocol, R extends WalletLoadResult>(
  generators: Generators<P>,
  paymentIds: string[],
  clients: number,
  run: (child: BenchChild<P>, share: RunShare) => Promise<R>,
): Promise<{ merged: WalletLoadResult; results: R[] }> {
  const results = await Promise.all(
    generators.children.map(({ child, firstClient, clients: mine }) =>
      run(child, {
        firstClient,
        clients: mine,
        paymentIds: paymentIds.filter((_, j) => j % clients >= firstClient && j % clients < firstClient + mine),
      }),
    ),
  );
  return { merged: mergeResults(results), results };
}

/** What is watched around a timed run. */
export interface RunWatch {
  servers: PayServers;
  loadgenPids: Array<number | undefined>;
  /** The issuer host, when the scenario runs one (its CPU and event loop are reported apart). */
  issuer?: ServiceProcess;
  system: PaySystem;
  trace: SqlTrace | null;
}

export interface Measured<R> {
  result: R;
  cpu: CpuUsage;
  /** Per pay-server process, the share of the run its event loop was busy. */
  eventLoops: number[];
  /** The issuer host's, when there is one. */
  issuerEventLoop: number | null;
  /** Per route, the time the pay servers spent on each request of the run (http-probe.ts), all processes together. */
  serverHttp: HttpTimes;
  /** The same for the issuer host, when there is one. */
  issuerHttp: HttpTimes | null;
  sqlTrace: TraceSnapshot | null;
}

/** Several processes' request times as one. */
function mergeHttp(all: HttpTimes[]): HttpTimes {
  const merged: HttpTimes = {};
  for (const times of all)
    for (const [route, ms] of Object.entries(times)) merged[route] = (merged[route] ?? []).concat(ms);
  return merged;
}

/** A timed run with the CPU of each component measured around it (and profiled and traced, if asked). */
export async function measureRun<R>(watch: RunWatch, run: () => Promise<R>): Promise<Measured<R>> {
  const { servers, issuer, system, trace } = watch;
  const issuerPids = issuer?.child.pid === undefined ? [] : [issuer.child.pid];
  const toggleProfilers = () => {
    servers.toggleProfilers();
    // The issuer host is started with the same preloads (benchPreloads): its profile is `pay-<issuer pid>-<n>`.
    if (servers.profiling) for (const pid of issuerPids) process.kill(pid, "SIGUSR2");
  };
  const issuerLoop = async (): Promise<EventLoopTimes | null> => (issuer ? askEventLoop(issuer) : null);
  trace?.reset();
  // Asking for the request times also starts them afresh: what comes next is the run's own.
  await Promise.all([servers.httpTimes(), issuer ? askHttpTimes(issuer) : null]);
  toggleProfilers();
  const loopsBefore = await servers.eventLoops();
  const issuerBefore = await issuerLoop();
  const before = await cpuSnapshot(servers.pids, watch.loadgenPids, await otherSessionsOf(system), issuerPids);
  const result = await run();
  const cpu = cpuBetween(
    before,
    await cpuSnapshot(servers.pids, watch.loadgenPids, await otherSessionsOf(system), issuerPids),
  );
  const eventLoops = eventLoopBusy(loopsBefore, await servers.eventLoops());
  const issuerAfter = await issuerLoop();
  toggleProfilers();
  const [serverHttp, issuerHttp] = await Promise.all([servers.httpTimes(), issuer ? askHttpTimes(issuer) : null]);
  return {
    result,
    cpu,
    eventLoops,
    issuerEventLoop: issuerBefore && issuerAfter ? (eventLoopBusy([issuerBefore], [issuerAfter])[0] ?? null) : null,
    serverHttp: mergeHttp(serverHttp),
    issuerHttp,
    sqlTrace: trace ? trace.snapshot() : null,
  };
}

export interface SupplyPlan<R extends WalletLoadResult> {
  /** Operations per second expected before any run (sizes the warm-up's payments). */
  estimate: number;
  warmupSeconds: number;
  seconds: number;
  clients: number;
  label: string;
  /** Makes `count` payments to work through, tagged for their idempotency keys. */
  create(count: number, tag: string): Promise<string[]>;
  /** One run over `ids` for `seconds`, unmeasured (the warm-up). */
  run(ids: string[], seconds: number): Promise<R>;
  /** The timed run over `ids`. */
  timed(ids: string[]): Promise<Measured<R>>;
  /** Told of every run, warm-up and repeated runs included (to count what the database must show afterwards). */
  onRun?(result: R): void;
  progress(line: string): void;
}

export interface SupplyOutcome<R extends WalletLoadResult> {
  timed: Measured<R>;
  /** Non-2xx answers in the warm-up and in runs repeated because the payments ran out. */
  warmupNon2xx: number;
  /** Seconds spent creating payments (setup, not timed). */
  setupSeconds: number;
}

/**
 * Warm-up on payments sized from `estimate`, then the timed run on payments sized from the warm-up's best second
 * (1.5 × the run's need). Should the payments run out, the run counts as a longer warm-up and is repeated with more
 * (twice at most).
 */
export async function runOnSupply<R extends WalletLoadResult>(plan: SupplyPlan<R>): Promise<SupplyOutcome<R>> {
  const { clients, label, progress } = plan;
  let setupSeconds = 0;
  const create = async (count: number, tag: string) => {
    const started = performance.now();
    progress(`setup: creating ${count} payments to ${label === "payments" ? "pay" : "approve"}`);
    const ids = await plan.create(count, tag);
    setupSeconds += (performance.now() - started) / 1000;
    return ids;
  };
  let estimate = plan.estimate;
  let warmupNon2xx = 0;
  if (plan.warmupSeconds > 0) {
    const ids = await create(Math.ceil(estimate * plan.warmupSeconds * 1.5) + clients * 4, "warm");
    progress(`warm-up (${label}): ${plan.warmupSeconds} s`);
    const warm = await plan.run(ids, plan.warmupSeconds);
    plan.onRun?.(warm);
    warmupNon2xx += warm.non2xx;
    if (warm.non2xx > 0)
      progress(`warm-up: ${warm.non2xx} non-2xx answers, e.g. ${JSON.stringify(warm.errorSamples.slice(0, 3))}`);
    progress(
      `warm-up: ${(warm.ops / warm.elapsedSeconds).toFixed(0)} ${label}/s on average, ${bestRate(warm).toFixed(0)} in the best second`,
    );
    estimate = warm.exhausted ? Math.max(estimate, 2 * bestRate(warm)) : bestRate(warm);
  }
  let needed = Math.ceil(estimate * plan.seconds * 1.5) + clients * 10;
  for (let attempt = 1; ; attempt++) {
    const ids = await create(needed, `timed${attempt}`);
    progress(`timed run (${label}): ${clients} clients, ${plan.seconds} s`);
    const timed = await plan.timed(ids);
    plan.onRun?.(timed.result);
    if (!timed.result.exhausted || attempt === 3) return { timed, warmupNon2xx, setupSeconds };
    warmupNon2xx += timed.result.non2xx;
    const best = bestRate(timed.result);
    progress(
      `timed run: the ${ids.length} payments ran out after ${timed.result.elapsedSeconds.toFixed(1)} s (${best.toFixed(0)}/s at best); again`,
    );
    needed = Math.ceil(best * plan.seconds * 1.5) + clients * 10;
  }
}
