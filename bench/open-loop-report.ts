/**
 * The `pay` report's open-loop part (`--rate N|auto`): payments arriving at a fixed rate, the latency of each from
 * its scheduled arrival (waits for a free payer included), against issue 11's target: approval p99 ≤ 100 ms at
 * 80 % of saturation (saturation = the closed loop's measured rate in the same run).
 */
import type { CpuUsage } from "./cpu-usage.ts";
import { ms } from "./auth-report.ts";
import type { OpenLoadResult } from "./pay-loadgen.ts";
import { summarize, type Summary } from "./stats.ts";

/** Issue 11: approval p99 at 80 % of saturation. */
export const OPEN_LOOP_P99_TARGET_MS = 100;
export const OPEN_LOOP_SHARE_OF_SATURATION = 0.8;

export interface OpenLoopReport {
  /** Arrivals per second asked for, and whether it was `auto` (a share of the closed loop's rate). */
  rate: number;
  auto: boolean;
  /** The closed loop's approved/s in the same run (saturation), and the rate as a share of it. */
  saturationPerSecond: number;
  shareOfSaturation: number;
  seconds: number;
  schedule: OpenLoadResult["schedule"];
  approvedPerSecond: number;
  approved: number;
  failed: number;
  non2xx: number;
  declines: number;
  /** The whole approval (challenge → the issuer's answer), from the scheduled arrival. */
  pathMs: Summary;
  /** The approve request alone (the PIN or passkey check and the card's release), as the device saw it. */
  approveMs: Summary;
  /** Servers' CPU per approved payment at this rate. */
  cpuMsPerPayment: { pay: number; issuer: number; postgres: number; devices: number };
  p99TargetMs: number;
  p99TargetMet: boolean;
}

export function openLoopReport(input: {
  rate: number;
  auto: boolean;
  saturationPerSecond: number;
  seconds: number;
  result: OpenLoadResult;
  cpu: CpuUsage;
}): OpenLoopReport {
  const { result, cpu } = input;
  const perOp = (seconds: number) => (result.ops > 0 ? (1000 * seconds) / result.ops : Number.NaN);
  const pathMs = summarize(result.opMs);
  return {
    rate: input.rate,
    auto: input.auto,
    saturationPerSecond: input.saturationPerSecond,
    shareOfSaturation: input.saturationPerSecond > 0 ? input.rate / input.saturationPerSecond : Number.NaN,
    seconds: input.seconds,
    schedule: result.schedule,
    approvedPerSecond: result.elapsedSeconds > 0 ? result.ops / result.elapsedSeconds : 0,
    approved: result.ops,
    failed: result.failedOps,
    non2xx: result.non2xx,
    declines: Object.values(result.declines).reduce((a, b) => a + b, 0),
    pathMs,
    approveMs: summarize(result.requestMs.approve ?? []),
    cpuMsPerPayment: {
      pay: perOp(cpu.serversSeconds),
      issuer: perOp(cpu.issuerSeconds),
      postgres: perOp(cpu.postgresSeconds),
      devices: perOp(cpu.loadgenSeconds),
    },
    p99TargetMs: OPEN_LOOP_P99_TARGET_MS,
    p99TargetMet: pathMs.p99 <= OPEN_LOOP_P99_TARGET_MS,
  };
}

export function formatOpenLoop(o: OpenLoopReport): string[] {
  const s = o.schedule;
  return [
    `  OPEN LOOP        ${o.rate.toFixed(1)} payments/s on a fixed schedule (${o.auto ? `auto: ${Math.round(100 * OPEN_LOOP_SHARE_OF_SATURATION)} % of` : `${Number.isFinite(o.shareOfSaturation) ? `${(100 * o.shareOfSaturation).toFixed(0)} % of` : "against"}`} the closed loop's ${o.saturationPerSecond.toFixed(1)}/s), ${o.seconds} s; arrivals do not wait for answers`,
    `    approval p99   ${ms(o.pathMs.p99)} (p50 ${ms(o.pathMs.p50)}, max ${ms(o.pathMs.max)}), challenge → the issuer's answer, from the scheduled arrival   target ≤ ${o.p99TargetMs} ms: ${o.p99TargetMet ? "met" : "NOT met"}`,
    `    approve step   p50 ${ms(o.approveMs.p50)} · p99 ${ms(o.approveMs.p99)} (the approve request alone)`,
    `    schedule       ${s.scheduled} arrivals · ${s.started} started · ${s.late} late (started > 10 ms after their time: every payer busy, or the event loop behind; start delay p99 ${ms(s.startDelayP99Ms)}) · ${s.unstarted} never started · largest backlog ${s.maxBacklog}`,
    `    completed      ${o.approvedPerSecond.toFixed(1)} approved/s (${o.approved})${o.failed ? ` · ${o.failed} failed` : ""} · non-2xx ${o.non2xx} · declines ${o.declines}`,
    `    CPU / payment  pay servers ${o.cpuMsPerPayment.pay.toFixed(2)} ms · issuer host ${o.cpuMsPerPayment.issuer.toFixed(2)} ms · PostgreSQL ${o.cpuMsPerPayment.postgres.toFixed(2)} ms · devices ${o.cpuMsPerPayment.devices.toFixed(2)} ms`,
  ];
}
