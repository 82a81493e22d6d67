/**
 * A load generator of the `pay` scenario, in a process of its own (bench/child.ts) so that the devices' work
 * (OPAQUE's client side, ECDSA signing, opening the release, the issuer's JWE) is charged to it and not to the
 * bench process or the servers. It keeps its synthetic payers' wallets between requests:
 *
 * - `enroll`: a device key per payer, bound, and the PIN set, over HTTP (setup, not timed);
 * - `passkeys`: a passkey registered for each payer (a WebAuthn authenticator simulated with node:crypto), for
 *   `--method passkey`; the cards enrolled next bind it at the issuer;
 * - `cards`: each payer's card enrolled at the issuer through the pay server, from a loopback address of its own
 *   (the pay server allows 30 enrollments per address an hour: each synthetic phone has its own address, as phones
 *   do); the parent sends at most one enrollment per card at a time, since the code is read from the card's phone;
 * - `run`: `clients` virtual users loop until the deadline (bench/wallet-load.ts), each paying the next payment
 *   from the shared queue, from the challenge to the issuer's decision.
 */
import { serveParent } from "./child.ts";
import { runOpenLoop, type OpenLoopStats } from "./open-loop.ts";
import { percentile } from "./stats.ts";
import type { BenchPayer, Wallet } from "./auth-wallet.ts";
import { enrollCard, issuerListings, latestInboxCode, payWith, type IssuerTestCard } from "./pay-wallet.ts";
import { registerPasskey } from "./pay-passkey.ts";
import {
  bindWallets,
  inParallel,
  LoadRecorder,
  poolFor,
  poolsFor,
  runWalletLoad,
  type BindConfig,
  type WalletLoadConfig,
  type WalletLoadResult,
} from "./wallet-load.ts";
import type { IssuerListing } from "@mpay/wallet";

export interface CardEnrollment {
  payerId: BenchPayer["payerId"];
  card: IssuerTestCard;
  /** The loopback address this payer's phone sends from (127.x.y.z). */
  localAddress: string;
}

export interface PayLoadResult extends WalletLoadResult {
  /** Payments answered `authorized`. */
  authorizedIds: string[];
  /** Payments answered otherwise (200 with another status), by decline code or status. */
  declines: Record<string, number>;
}

export interface PayRunConfig extends WalletLoadConfig {
  /** How the payers approve: the PIN, or the passkey registered at setup. */
  method: "pin" | "passkey";
}

/** An open-loop run: this generator's share of the rate, over all its payers (one payment in flight each). */
export interface OpenRunConfig {
  urls: string[];
  method: "pin" | "passkey";
  /** Arrivals per second from this generator. */
  rate: number;
  seconds: number;
  paymentIds: string[];
}

export interface OpenLoadResult extends PayLoadResult {
  /** The schedule: arrivals, starts, late starts, never started, the largest backlog (bench/open-loop.ts). */
  schedule: Omit<OpenLoopStats, "startDelayMs"> & { startDelayP99Ms: number };
}

export type PayLoadProtocol = {
  enroll: { body: BindConfig; result: { enrolled: number } };
  passkeys: { body: { urls: string[] }; result: { registered: number } };
  cards: { body: { url: string; issuerUrl: string; enrollments: CardEnrollment[] }; result: { enrolled: number } };
  run: { body: PayRunConfig; result: PayLoadResult };
  open: { body: OpenRunConfig; result: OpenLoadResult };
};

let wallets: Wallet[] = [];
/** The pay server's issuer listing, read once (the certificates are verified for each payment all the same). */
let listings: IssuerListing[] = [];

async function enrollCards(config: PayLoadProtocol["cards"]["body"]): Promise<{ enrolled: number }> {
  const byPayer = new Map(wallets.map((w) => [w.payerId, w]));
  const wallet = (payerId: string) => {
    const found = byPayer.get(payerId);
    if (!found) throw new Error(`no wallet for ${payerId}`);
    return found;
  };
  if (listings.length === 0 && wallets[0]) {
    const pool = poolFor(config.url, 1);
    try {
      listings = await issuerListings(pool, wallets[0]);
    } finally {
      await pool.close();
    }
  }
  await inParallel(config.enrollments, 8, async ({ payerId, card, localAddress }) => {
    const pool = poolFor(config.url, 1, localAddress);
    try {
      await enrollCard(pool, wallet(payerId), card, listings, (phone) => latestInboxCode(config.issuerUrl, phone));
    } finally {
      await pool.close();
    }
  });
  return { enrolled: config.enrollments.length };
}

/** A passkey for each payer (setup, not timed), before the cards are enrolled so that the issuer binds it. */
async function registerPasskeys(config: { urls: string[] }): Promise<{ registered: number }> {
  const pools = config.urls.map((url) => poolFor(url, 4));
  try {
    await inParallel(wallets, 8, (wallet, w) =>
      registerPasskey(pools[w % pools.length] as (typeof pools)[number], wallet),
    );
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  return { registered: wallets.length };
}

async function runPayments(config: PayRunConfig): Promise<PayLoadResult> {
  const authorizedIds: string[] = [];
  const declines: Record<string, number> = {};
  const result = await runWalletLoad(config, wallets, {
    perPayment: true,
    run: async (pool, wallet, paymentId, log, device) => {
      const outcome = await payWith(config.method, pool, wallet, paymentId ?? "", listings, log, device);
      if (!outcome) return false;
      if (outcome.status === "authorized" && outcome.id === paymentId) {
        authorizedIds.push(outcome.id);
        return true;
      }
      const why = outcome.declineCode ?? outcome.status;
      declines[why] = (declines[why] ?? 0) + 1;
      return false;
    },
  });
  return { ...result, authorizedIds, declines };
}

/**
 * Payments arriving at a fixed rate (bench/open-loop.ts), each on a free payer, not waiting for the earlier ones'
 * answers; a payment's latency counts from its scheduled arrival, so a wait for a free payer is in it.
 */
async function runOpen(config: OpenRunConfig): Promise<OpenLoadResult> {
  const pools = poolsFor(config.urls, 0, wallets.length);
  const recorder = new LoadRecorder();
  const authorizedIds: string[] = [];
  const declines: Record<string, number> = {};
  let nextPayment = 0;
  let exhausted = false;
  let stats: OpenLoopStats;
  try {
    stats = await runOpenLoop({
      rate: config.rate,
      seconds: config.seconds,
      slots: wallets.map((wallet, i) => ({ wallet, pool: pools[i % pools.length] as (typeof pools)[number] })),
      work: async ({ wallet, pool }, arrival) => {
        const paymentId = config.paymentIds[nextPayment++];
        if (paymentId === undefined) {
          exhausted = true;
          return;
        }
        const op = recorder.begin();
        const outcome = await payWith(config.method, pool, wallet, paymentId, listings, op.log, op.device);
        const ok = outcome?.status === "authorized" && outcome.id === paymentId;
        if (ok) authorizedIds.push(paymentId);
        else if (outcome) {
          const why = outcome.declineCode ?? outcome.status;
          declines[why] = (declines[why] ?? 0) + 1;
        }
        op.end(ok, arrival.scheduledAt, arrival.startedAt);
      },
    });
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
  const { startDelayMs, ...schedule } = stats;
  return {
    ...recorder.result(exhausted),
    authorizedIds,
    declines,
    schedule: { ...schedule, startDelayP99Ms: startDelayMs.length ? percentile(startDelayMs, 99) : 0 },
  };
}

serveParent<PayLoadProtocol>({
  enroll: async (config) => {
    wallets = await bindWallets(config);
    return { enrolled: wallets.length };
  },
  passkeys: registerPasskeys,
  cards: enrollCards,
  run: runPayments,
  open: runOpen,
});
