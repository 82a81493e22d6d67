/**
 * What the load generators of the `auth` and `pay` scenarios share: binding each synthetic payer's device over
 * HTTP, and the timed loop of virtual users, each on its own keep-alive connection, each over its own payers in
 * turn (a payer has one outstanding PIN login at a time, so no two users share one), doing one operation per
 * iteration — of the next payment from a queue the users share, when the operation is per payment (they stop when
 * it runs dry). The loop answers raw latencies, so that the parent can merge several load generators into one set
 * of percentiles (`mergeResults`).
 */
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import {
  enroll,
  type BenchPayer,
  type DeviceLog,
  type DeviceStep,
  type RequestKind,
  type RequestLog,
  type Wallet,
} from "./auth-wallet.ts";

export interface ErrorSample {
  kind: RequestKind;
  status: number;
  body: string;
}

export interface WalletLoadResult {
  /** Completed operations (each verified by the server). */
  ops: number;
  /** Iterations that ended on a failed request. */
  failedOps: number;
  elapsedSeconds: number;
  /** Milliseconds of each completed operation, wallet work included. */
  opMs: number[];
  /** The whole second of the run (from its start) in which each of `opMs` completed, in the same order. */
  opSecond: number[];
  /** Of each, the part spent in the wallet (OPAQUE client, signing, MAC, JWE) rather than waiting for an answer. */
  walletMs: number[];
  /** Per request kind, the time of each 2xx answer. */
  requestMs: Partial<Record<RequestKind, number[]>>;
  /** Per device-side step, its time in each completed operation. */
  deviceMs: Partial<Record<DeviceStep, number[]>>;
  statuses: Partial<Record<RequestKind, Record<string, number>>>;
  non2xx: number;
  errorSamples: ErrorSample[];
  exhausted: boolean;
  /** Operations completed in each whole second (the last, partial second left out). */
  perSecond: number[];
}

export interface WalletLoadConfig {
  urls: string[];
  clients: number;
  /** This generator's first user's index among all generators' users: users are spread over the URLs by it. */
  firstClient: number;
  seconds: number;
  /** For an operation per payment: payments in `requires_approval`, each used once. */
  paymentIds: string[];
}

/** One iteration of a virtual user; true when the server (and the issuer) answered as they should. */
export interface WalletOperation<W extends Wallet> {
  /** Takes the next payment from the queue (and stops the user when there is none). */
  perPayment: boolean;
  run(pool: Pool, wallet: W, paymentId: string | undefined, log: RequestLog, device: DeviceLog): Promise<boolean>;
}

export interface BindConfig {
  urls: string[];
  payers: BenchPayer[];
  concurrency: number;
}

const MAX_ERROR_SAMPLES = 10;

/** A keep-alive pool; `localAddress` picks the loopback address the requests come from (one per synthetic phone). */
export function poolFor(url: string, connections: number, localAddress?: string): Pool {
  return new Pool(url, {
    connections: Math.max(1, connections),
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    ...(localAddress ? { localAddress } : {}),
  });
}

/** Runs `work` over `items`, `concurrency` at a time, each worker on the pool `w mod pools`; keeps the order. */
export async function inParallel<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, worker: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async (_, w) => {
      for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i] as T, w);
    }),
  );
  return results;
}

/** Makes a device key per payer, binds it and sets the PIN over HTTP (setup, not timed). */
export async function bindWallets(config: BindConfig): Promise<Wallet[]> {
  const pools = config.urls.map((url) => poolFor(url, Math.ceil(config.concurrency / config.urls.length)));
  try {
    return await inParallel(config.payers, config.concurrency, (payer, w) =>
      enroll(pools[w % pools.length] as Pool, payer),
    );
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

/**
 * Where a run's operations are recorded: each operation gets its own request and device logs (`begin`), and says
 * how it ended (`end`); `result` answers the run's raw latencies and counts.
 */
export class LoadRecorder {
  readonly start = performance.now();
  private readonly opMs: number[] = [];
  private readonly opSecond: number[] = [];
  private readonly walletMs: number[] = [];
  private readonly requestMs: WalletLoadResult["requestMs"] = {};
  private readonly deviceMs: WalletLoadResult["deviceMs"] = {};
  private readonly statuses: WalletLoadResult["statuses"] = {};
  private readonly errorSamples: ErrorSample[] = [];
  private readonly perSecond: number[] = [];
  private non2xx = 0;
  private failedOps = 0;

  /** The logs of one operation, and its end: `from` is when it counts from (its start, or its scheduled arrival). */
  begin(): { log: RequestLog; device: DeviceLog; end(ok: boolean, from: number, started?: number): void } {
    let waited = 0;
    // A step may be reported more than once per operation (signing and OPAQUE's start are both "prepare").
    const onDevice: Partial<Record<DeviceStep, number>> = {};
    const log: RequestLog = (kind, status, ms, failedBody) => {
      waited += ms;
      const counts = (this.statuses[kind] ??= {});
      counts[String(status)] = (counts[String(status)] ?? 0) + 1;
      const ok = typeof status === "number" && status >= 200 && status < 300;
      if (ok) (this.requestMs[kind] ??= []).push(ms);
      else {
        this.non2xx++;
        if (this.errorSamples.length < MAX_ERROR_SAMPLES)
          this.errorSamples.push({ kind, status: status === "error" ? 0 : status, body: failedBody.slice(0, 500) });
      }
      return ok;
    };
    const device: DeviceLog = (step, ms) => {
      onDevice[step] = (onDevice[step] ?? 0) + ms;
    };
    const end = (ok: boolean, from: number, started = from) => {
      if (!ok) {
        this.failedOps++;
        return;
      }
      const t1 = performance.now();
      const second = Math.floor((t1 - this.start) / 1000);
      this.opMs.push(t1 - from);
      this.opSecond.push(second);
      this.walletMs.push(t1 - started - waited);
      for (const [step, ms] of Object.entries(onDevice) as Array<[DeviceStep, number]>)
        (this.deviceMs[step] ??= []).push(ms);
      this.perSecond[second] = (this.perSecond[second] ?? 0) + 1;
    };
    return { log, device, end };
  }

  result(exhausted: boolean): WalletLoadResult {
    const elapsedSeconds = (performance.now() - this.start) / 1000;
    return {
      ops: this.opMs.length,
      failedOps: this.failedOps,
      elapsedSeconds,
      opMs: this.opMs,
      opSecond: this.opSecond,
      walletMs: this.walletMs,
      requestMs: this.requestMs,
      deviceMs: this.deviceMs,
      statuses: this.statuses,
      non2xx: this.non2xx,
      errorSamples: this.errorSamples,
      exhausted,
      perSecond: Array.from({ length: Math.floor(elapsedSeconds) }, (_, i) => this.perSecond[i] ?? 0),
    };
  }
}

/** Keep-alive pools, one per URL, with as many connections as the users (or slots) each URL serves. */
export function poolsFor(urls: string[], firstClient: number, users: number): Pool[] {
  if (urls.length === 0) throw new Error("no server URL");
  return urls.map((url, u) =>
    poolFor(
      url,
      Array.from({ length: users }, (_, i) => i).filter((i) => (firstClient + i) % urls.length === u).length,
    ),
  );
}

/** `clients` virtual users loop `operation` until the deadline (or the payments run out). */
export async function runWalletLoad<W extends Wallet>(
  config: WalletLoadConfig,
  wallets: readonly W[],
  operation: WalletOperation<W>,
): Promise<WalletLoadResult> {
  if (wallets.length < config.clients)
    throw new Error(`${wallets.length} payers for ${config.clients} users: each user needs a payer of its own`);
  const pools = poolsFor(config.urls, config.firstClient, config.clients);
  const recorder = new LoadRecorder();
  const deadline = recorder.start + config.seconds * 1000;
  let exhausted = false;
  let nextPayment = 0;

  const user = async (index: number) => {
    const pool = pools[(config.firstClient + index) % pools.length] as Pool;
    const mine = wallets.filter((_, w) => w % config.clients === index);
    for (let seq = 0; performance.now() < deadline; seq++) {
      const wallet = mine[seq % mine.length] as W;
      let paymentId: string | undefined;
      if (operation.perPayment) {
        paymentId = config.paymentIds[nextPayment++];
        if (paymentId === undefined) {
          exhausted = true;
          return;
        }
      }
      const op = recorder.begin();
      const t0 = performance.now();
      op.end(await operation.run(pool, wallet, paymentId, op.log, op.device), t0);
    }
  };

  try {
    await Promise.all(Array.from({ length: config.clients }, (_, i) => user(i)));
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  return recorder.result(exhausted);
}

function concatInto<K extends string>(into: Partial<Record<K, number[]>>, from: Partial<Record<K, number[]>>): void {
  for (const [kind, ms] of Object.entries(from) as Array<[K, number[]]>) into[kind] = (into[kind] ?? []).concat(ms);
}

/** A run that did nothing: the start of a merge, and of test fixtures. */
export function emptyResult(): WalletLoadResult {
  return {
    ops: 0,
    failedOps: 0,
    elapsedSeconds: 0,
    opMs: [],
    opSecond: [],
    walletMs: [],
    requestMs: {},
    deviceMs: {},
    statuses: {},
    non2xx: 0,
    errorSamples: [],
    exhausted: false,
    perSecond: [],
  };
}

/** Several load generators' results of one run as one: counts added, latencies pooled, seconds aligned. */
export function mergeResults(results: WalletLoadResult[]): WalletLoadResult {
  const merged = emptyResult();
  for (const r of results) {
    merged.ops += r.ops;
    merged.failedOps += r.failedOps;
    merged.elapsedSeconds = Math.max(merged.elapsedSeconds, r.elapsedSeconds);
    merged.opMs = merged.opMs.concat(r.opMs);
    merged.opSecond = merged.opSecond.concat(r.opSecond);
    merged.walletMs = merged.walletMs.concat(r.walletMs);
    concatInto(merged.requestMs, r.requestMs);
    concatInto(merged.deviceMs, r.deviceMs);
    for (const [kind, counts] of Object.entries(r.statuses) as Array<[RequestKind, Record<string, number>]>) {
      const into = (merged.statuses[kind] ??= {});
      for (const [status, n] of Object.entries(counts)) into[status] = (into[status] ?? 0) + n;
    }
    merged.non2xx += r.non2xx;
    merged.errorSamples.push(...r.errorSamples.slice(0, Math.max(0, MAX_ERROR_SAMPLES - merged.errorSamples.length)));
    merged.exhausted ||= r.exhausted;
  }
  // Generators start within milliseconds of each other: second i of each is second i of the run. Only the seconds
  // every generator completed are kept.
  const seconds = Math.min(...results.map((r) => r.perSecond.length));
  merged.perSecond = Array.from({ length: results.length ? seconds : 0 }, (_, i) =>
    results.reduce((sum, r) => sum + (r.perSecond[i] ?? 0), 0),
  );
  return merged;
}

/** The best whole second of a run, or its average if it had none; operations per second. */
export function bestRate(r: WalletLoadResult): number {
  return Math.max(r.elapsedSeconds > 0 ? r.ops / r.elapsedSeconds : 0, ...r.perSecond);
}
