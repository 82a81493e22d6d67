/**
 * The load generator of the `api` scenario, run in a process of its own (bench/child.ts: forked by api.ts through
 * tsx) so that its CPU is not the bench process's, and told what to do over IPC: `run` a load, answer its result.
 *
 * Each of `clients` virtual users loops until the deadline: POST /v1/payments (a new manual-capture payment),
 * then POST /v1/payments/{id}/capture on the next pre-authorized payment, each with its own Idempotency-Key.
 * One create+capture pair is one "payment" of the report. Users are spread round-robin over the server URLs;
 * each has its own keep-alive connection (undici Pool, one connection per user, no pipelining).
 */
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import { serveParent } from "./child.ts";
import { Samples, type Summary } from "./stats.ts";
import { latencyPerSecond, type SecondLatency } from "./timeline.ts";

export interface LoadMerchant {
  secretKey: string;
  /** This merchant's authorized payments to capture, each used once. */
  paymentIds: string[];
}

export interface LoadConfig {
  urls: string[];
  /** Virtual user i works for merchants[i % merchants.length]. */
  merchants: LoadMerchant[];
  clients: number;
  seconds: number;
  /** Makes Idempotency-Keys unique across runs on one database. */
  runId: string;
  /** A registered origin of the merchant (for returnUrl/cancelUrl). */
  origin: string;
}

export interface ErrorSample {
  kind: "create" | "capture";
  status: number;
  body: string;
}

export interface LoadResult {
  pairs: number;
  elapsedSeconds: number;
  pair: Summary;
  create: Summary;
  capture: Summary;
  /** Per request kind, how many answers had each HTTP status ("error" for a transport failure). */
  statuses: { create: Record<string, number>; capture: Record<string, number> };
  non2xx: number;
  errorSamples: ErrorSample[];
  /** True when users stopped before the deadline because the pre-authorized payments ran out. */
  exhausted: boolean;
  capturedIds: number;
  /** Pairs completed in each whole second of the run (the last, partial second left out). */
  perSecond: number[];
  /** The pairs' p50 and p99 in each of those seconds. */
  latencyPerSecond: SecondLatency[];
}

export type LoadProtocol = { run: { body: LoadConfig; result: LoadResult } };

const MAX_ERROR_SAMPLES = 10;

export async function generateLoad(config: LoadConfig): Promise<LoadResult> {
  if (config.urls.length === 0) throw new Error("no server URL");
  const usersPer = config.urls.map((_, i) => Math.ceil((config.clients - i) / config.urls.length));
  const pools = config.urls.map(
    (url, i) =>
      new Pool(url, {
        connections: Math.max(1, usersPer[i] ?? 1),
        pipelining: 1,
        keepAliveTimeout: 60_000,
        keepAliveMaxTimeout: 600_000,
      }),
  );
  if (config.merchants.length === 0) throw new Error("no merchant");
  const merchants = config.merchants.map((m) => ({ auth: `Bearer ${m.secretKey}`, ids: m.paymentIds, next: 0 }));
  const createBody = (user: number, seq: number) =>
    JSON.stringify({
      amount: 1000 + ((user * 7919 + seq) % 90_000),
      currency: "KRW",
      orderId: `bench-${config.runId}-${user}-${seq}`,
      itemName: "Bench item",
      returnUrl: `${config.origin}/done`,
      cancelUrl: `${config.origin}/cart`,
      captureMethod: "manual",
    });

  const pair = new Samples();
  const create = new Samples();
  const capture = new Samples();
  const statuses: LoadResult["statuses"] = { create: {}, capture: {} };
  const errorSamples: ErrorSample[] = [];
  let non2xx = 0;
  let exhausted = false;
  const perSecond: number[] = [];
  const pairSecond = new Samples();

  const note = (kind: "create" | "capture", status: number | "error", body: string) => {
    const counts = statuses[kind];
    counts[String(status)] = (counts[String(status)] ?? 0) + 1;
    const ok = typeof status === "number" && status >= 200 && status < 300;
    if (!ok) {
      non2xx++;
      if (errorSamples.length < MAX_ERROR_SAMPLES)
        errorSamples.push({ kind, status: status === "error" ? 0 : status, body: body.slice(0, 500) });
    }
    return ok;
  };

  const post = async (
    pool: Pool,
    auth: string,
    kind: "create" | "capture",
    path: string,
    key: string,
    body: string,
  ): Promise<boolean> => {
    try {
      const response = await pool.request({
        path,
        method: "POST",
        headers: { authorization: auth, "content-type": "application/json", "idempotency-key": key },
        body,
      });
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      // Read the body either way: the connection is reused only once it is consumed.
      const text = await response.body.text();
      return note(kind, response.statusCode, ok ? "" : text);
    } catch (error) {
      return note(kind, "error", error instanceof Error ? error.message : String(error));
    }
  };

  const start = performance.now();
  const deadline = start + config.seconds * 1000;

  const user = async (index: number) => {
    const pool = pools[index % pools.length] as Pool;
    const merchant = merchants[index % merchants.length] as (typeof merchants)[number];
    for (let seq = 0; performance.now() < deadline; seq++) {
      const id = merchant.ids[merchant.next];
      if (id === undefined) {
        exhausted = true;
        return;
      }
      merchant.next++;
      const t0 = performance.now();
      await post(
        pool,
        merchant.auth,
        "create",
        "/v1/payments",
        `bench-${config.runId}-${index}-${seq}-create`,
        createBody(index, seq),
      );
      const t1 = performance.now();
      await post(
        pool,
        merchant.auth,
        "capture",
        `/v1/payments/${id}/capture`,
        `bench-${config.runId}-${index}-${seq}-capture`,
        "{}",
      );
      const t2 = performance.now();
      create.add(t1 - t0);
      capture.add(t2 - t1);
      pair.add(t2 - t0);
      const second = Math.floor((t2 - start) / 1000);
      pairSecond.add(second);
      perSecond[second] = (perSecond[second] ?? 0) + 1;
    }
  };

  try {
    await Promise.all(Array.from({ length: config.clients }, (_, i) => user(i)));
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  const elapsedSeconds = (performance.now() - start) / 1000;
  return {
    pairs: pair.length,
    elapsedSeconds,
    pair: pair.summary(),
    create: create.summary(),
    capture: capture.summary(),
    statuses,
    non2xx,
    errorSamples,
    exhausted,
    perSecond: Array.from({ length: Math.floor(elapsedSeconds) }, (_, i) => perSecond[i] ?? 0),
    latencyPerSecond: latencyPerSecond(pair.values(), pairSecond.values(), Math.floor(elapsedSeconds)),
    capturedIds: merchants.reduce((sum, m) => sum + m.next, 0),
  };
}

// Run as a forked child: serve "run" requests until told to exit (or the parent goes away).
serveParent<LoadProtocol>({ run: generateLoad });
