/**
 * A load generator of the `auth` scenario, in a process of its own (bench/child.ts) so that the wallets' work
 * (OPAQUE's client side, ECDSA signing) is charged to it and not to the bench process. It keeps its synthetic
 * payers' wallets between requests:
 *
 * - `enroll`: makes a device key per payer, binds it and sets the PIN over HTTP (setup, not timed);
 * - `run`: `clients` virtual users loop until the deadline, each over its own payers in turn (a payer has one
 *   outstanding PIN login at a time, so no two users share one) and on its own keep-alive connection:
 *   `logins` — one pin-check login per iteration; `approvals` — one approval per iteration, of the next payment
 *   from a queue the users share (they stop when it runs dry).
 *
 * It answers raw latencies, so that the parent can merge several load generators into one set of percentiles.
 */
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import { serveParent } from "./child.ts";
import { approveWithPin, checkPin, enroll, storeCard, type BenchCard, type BenchPayer, type RequestKind, type RequestLog, type Wallet } from "./auth-wallet.ts";

export type AuthMode = "logins" | "approvals";

export interface EnrollConfig {
  urls: string[];
  payers: BenchPayer[];
  concurrency: number;
}

export interface AuthLoadConfig {
  mode: AuthMode;
  urls: string[];
  clients: number;
  /** This generator's first user's index among all generators' users: users are spread over the URLs by it. */
  firstClient: number;
  seconds: number;
  /** For `approvals`: payments in `requires_approval`, each approved once. */
  paymentIds: string[];
}

export interface ErrorSample {
  kind: RequestKind;
  status: number;
  body: string;
}

export interface AuthLoadResult {
  /** Completed logins or approvals (each verified by the server). */
  ops: number;
  /** Iterations that ended on a failed request. */
  failedOps: number;
  elapsedSeconds: number;
  /** Milliseconds of each completed operation, wallet work included. */
  opMs: number[];
  /** Of each, the part spent in the wallet (OPAQUE client, signing, MAC) rather than waiting for an answer. */
  walletMs: number[];
  requestMs: Partial<Record<RequestKind, number[]>>;
  statuses: Partial<Record<RequestKind, Record<string, number>>>;
  non2xx: number;
  errorSamples: ErrorSample[];
  exhausted: boolean;
  /** Operations completed in each whole second (the last, partial second left out). */
  perSecond: number[];
}

export type AuthLoadProtocol = {
  enroll: { body: EnrollConfig; result: { enrolled: number } };
  /** Seals and uploads each wallet's card (the rows the bench made in the vault for their devices). */
  cards: { body: { urls: string[]; cards: BenchCard[] }; result: { stored: number } };
  run: { body: AuthLoadConfig; result: AuthLoadResult };
};

const MAX_ERROR_SAMPLES = 10;
let wallets: Wallet[] = [];

const poolFor = (url: string, connections: number) => new Pool(url, { connections: Math.max(1, connections), pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });

async function enrollAll(config: EnrollConfig): Promise<{ enrolled: number }> {
  const pools = config.urls.map((url) => poolFor(url, Math.ceil(config.concurrency / config.urls.length)));
  const made: Wallet[] = new Array<Wallet>(config.payers.length);
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: config.concurrency }, async (_, w) => {
        for (let i = next++; i < config.payers.length; i = next++) {
          made[i] = await enroll(pools[w % pools.length] as Pool, config.payers[i] as BenchPayer);
        }
      }),
    );
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  wallets = made;
  return { enrolled: made.length };
}

async function storeCards(config: { urls: string[]; cards: BenchCard[] }): Promise<{ stored: number }> {
  const pool = poolFor(config.urls[0] ?? "", 8);
  try {
    const byPayer = new Map(wallets.map((w) => [w.payerId, w]));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < config.cards.length; i = next++) {
          const card = config.cards[i]!;
          const wallet = byPayer.get(card.payerId);
          if (!wallet) throw new Error(`no wallet for ${card.payerId}`);
          await storeCard(pool, wallet, card);
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return { stored: config.cards.length };
}

async function runLoad(config: AuthLoadConfig): Promise<AuthLoadResult> {
  if (config.urls.length === 0) throw new Error("no server URL");
  if (wallets.length < config.clients) throw new Error(`${wallets.length} payers for ${config.clients} users: each user needs a payer of its own`);
  const usersPer = config.urls.map((_, u) => Array.from({ length: config.clients }, (_, i) => i).filter((i) => (config.firstClient + i) % config.urls.length === u).length);
  const pools = config.urls.map((url, u) => poolFor(url, usersPer[u] ?? 1));

  const opMs: number[] = [];
  const walletMs: number[] = [];
  const requestMs: AuthLoadResult["requestMs"] = {};
  const statuses: AuthLoadResult["statuses"] = {};
  const errorSamples: ErrorSample[] = [];
  const perSecond: number[] = [];
  let non2xx = 0;
  let failedOps = 0;
  let exhausted = false;
  let nextPayment = 0;

  const start = performance.now();
  const deadline = start + config.seconds * 1000;

  const user = async (index: number) => {
    const pool = pools[(config.firstClient + index) % pools.length] as Pool;
    const mine = wallets.filter((_, w) => w % config.clients === index);
    let waited = 0;
    const log: RequestLog = (kind, status, ms, failedBody) => {
      waited += ms;
      const counts = (statuses[kind] ??= {});
      counts[String(status)] = (counts[String(status)] ?? 0) + 1;
      const ok = typeof status === "number" && status >= 200 && status < 300;
      if (ok) (requestMs[kind] ??= []).push(ms);
      else {
        non2xx++;
        if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push({ kind, status: status === "error" ? 0 : status, body: failedBody.slice(0, 500) });
      }
      return ok;
    };
    for (let seq = 0; performance.now() < deadline; seq++) {
      const wallet = mine[seq % mine.length] as Wallet;
      let paymentId: string | undefined;
      if (config.mode === "approvals") {
        paymentId = config.paymentIds[nextPayment++];
        if (paymentId === undefined) {
          exhausted = true;
          return;
        }
      }
      waited = 0;
      const t0 = performance.now();
      const ok = paymentId === undefined ? await checkPin(pool, wallet, log) : await approveWithPin(pool, wallet, paymentId, log);
      const t1 = performance.now();
      if (!ok) {
        failedOps++;
        continue;
      }
      opMs.push(t1 - t0);
      walletMs.push(t1 - t0 - waited);
      const second = Math.floor((t1 - start) / 1000);
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
    ops: opMs.length,
    failedOps,
    elapsedSeconds,
    opMs,
    walletMs,
    requestMs,
    statuses,
    non2xx,
    errorSamples,
    exhausted,
    perSecond: Array.from({ length: Math.floor(elapsedSeconds) }, (_, i) => perSecond[i] ?? 0),
  };
}

serveParent<AuthLoadProtocol>({ enroll: enrollAll, cards: storeCards, run: runLoad });
