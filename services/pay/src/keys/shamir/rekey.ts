/**
 * The whole of `mpay vault rekey`, online: the new share set and key version (shamir-rekey.ts), the re-seal of
 * every sealed row to that version while the servers keep serving (reseal.ts), then the deletion of every key
 * the replaced master key protected. `mpay vault reseal` runs the second half again after an interruption.
 *
 * The caller gets the new shares as soon as they are the only ones that unseal (`onShares`), before the re-seal
 * starts: an interrupted re-seal must never lose them. It writes an audit entry (`beforeRetire`) right before the
 * old versions go, so that the audit chain's head is MACed with a version that stays.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { VERSION_CACHE_MS } from "../key-versions.ts";
import { resealBelow, type ResealContext, type ResealOptions, type ResealReport, type Resealer } from "../reseal.ts";
import { HEARTBEAT_MS, LIVE_MS } from "./shamir-processes.ts";
import type { ShamirKeyProvider } from "./shamir-provider.ts";

export interface RekeyContext extends ResealContext {
  keys: ShamirKeyProvider;
}

export interface NewShareSet {
  generation: number;
  threshold: number;
  shareCount: number;
  /** The key version every row is re-sealed to. */
  keyVersion: number;
  /** The texts of the new shares, to hand out once; never logged. */
  shares: string[];
  /** Other unsealed processes the new master key was delivered to. */
  delivered: number;
}

export interface RekeyOptions extends ResealOptions {
  /** Called once the new share set is committed, before the re-seal: print the shares here. */
  onShares?: (set: NewShareSet) => Promise<void> | void;
  /** Called once every row is re-sealed, right before the old versions are deleted. */
  beforeRetire?: () => Promise<void>;
  /** How long to wait for processes that still hold the old master key to follow or go (default LIVE_MS + 5 s). */
  followMs?: number;
}

export interface RekeyFinish extends ResealReport {
  toVersion: number;
  /** True once the replaced master key's rows and the versions below `toVersion` are deleted. */
  retired: boolean;
  /** Keyring rows deleted. */
  deletedKeys: number;
  /** When not retired because of them: live processes that still hold the old master key. */
  processesBehind: number;
}

export interface RekeyReport extends RekeyFinish {
  fromVersion: number;
  generation: number;
  threshold: number;
  shareCount: number;
}

export async function rekeyAndReseal(
  ctx: RekeyContext,
  resealers: readonly Resealer[],
  next: { shares: number; threshold: number },
  options: RekeyOptions = {},
): Promise<RekeyReport> {
  const fromVersion = ctx.keys.currentKeyVersion();
  const made = await ctx.keys.rekey(next.shares, next.threshold);
  const shares = made.shares.peek();
  await options.onShares?.({
    generation: made.generation,
    threshold: next.threshold,
    shareCount: next.shares,
    keyVersion: made.version,
    shares,
    delivered: made.delivered,
  });
  // Every process reads the new version within VERSION_CACHE_MS (the others take their delivery then).
  await sleep(options.settleMs ?? 2 * VERSION_CACHE_MS + 500);
  const finish = await finishRekey(ctx, resealers, made.version, options);
  return { fromVersion, generation: made.generation, threshold: next.threshold, shareCount: next.shares, ...finish };
}

/**
 * Re-seals every row below `toVersion`, and once none is left, ends the rekey: the keys that the replaced master
 * key protected are deleted. Idempotent: run again after an interruption (`mpay vault reseal`), it does what is left.
 */
export async function finishRekey(
  ctx: RekeyContext,
  resealers: readonly Resealer[],
  toVersion: number,
  options: RekeyOptions = {},
): Promise<RekeyFinish> {
  const report = await resealBelow(ctx, resealers, toVersion, options);
  if (report.leftTotal > 0) return { ...report, toVersion, retired: false, deletedKeys: 0, processesBehind: 0 };
  await options.beforeRetire?.();
  const deadline = Date.now() + (options.followMs ?? LIVE_MS + 5000);
  for (;;) {
    const ended = await ctx.keys.endRekey();
    if (ended === null) return { ...report, toVersion, retired: true, deletedKeys: 0, processesBehind: 0 };
    if (ended.ended) return { ...report, toVersion, retired: true, deletedKeys: ended.deletedKeys, processesBehind: 0 };
    // A process that holds the old master key either takes its delivery within a refresh, or stops being seen.
    if (Date.now() > deadline)
      return { ...report, toVersion, retired: false, deletedKeys: 0, processesBehind: ended.processesBehind };
    await sleep(HEARTBEAT_MS);
  }
}
