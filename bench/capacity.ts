/**
 * The headline figure of issue 11: the servers' capacity, i.e. what the machine's cores would approve per second if
 * they did nothing but the servers' work (pay servers + issuer host + PostgreSQL), measured as CPU seconds per
 * approved payment during the timed run:
 *
 *   capacity = cores ÷ (pay + issuer + PostgreSQL CPU seconds per payment)
 *
 * beside the measured throughput, each as a ratio to pgbench's TPS from the same run, against the issue's targets.
 * On a machine whose cores also run the load generator (the synthetic devices) and other people's work, the
 * measured rate is bounded by what they take; the capacity is not, which is why it is the figure to compare.
 * Also the CPU split of the timed run by process, for the report and its chart.
 */
import type { CpuUsage } from "./cpu-usage.ts";

/** The issue's targets, as fractions of the same run's pgbench TPS (null: the issue sets none). */
export interface Targets {
  capacity: number | null;
  measured: number | null;
}

/** `api`: create + capture ≥ 0.40 × pgbench (measured); no separate capacity target. */
export const API_TARGETS: Targets = { capacity: null, measured: 0.4 };
/** `pay`, the whole PIN path: capacity ≥ 0.10 × pgbench and measured approved/s ≥ 0.05 × pgbench. */
export const PIN_PATH_TARGETS: Targets = { capacity: 0.1, measured: 0.05 };
/** The passkey path's capacity target (≥ 0.15 × pgbench); the issue sets no measured target for it. */
export const PASSKEY_CAPACITY_TARGET = 0.15;
/** `pay --method passkey`. */
export const PASSKEY_PATH_TARGETS: Targets = { capacity: PASSKEY_CAPACITY_TARGET, measured: null };

/** Where the cores went during the timed run, in CPU seconds; `idle` is what nobody used. */
export interface CpuSplit {
  pay: number;
  issuer: number;
  postgres: number;
  /** The load generators: in `pay`, the synthetic devices; in `api`, plain HTTP clients. */
  loadgens: number;
  bench: number;
  interrupts: number;
  other: number;
  steal: number;
  idle: number;
}

export interface Capacity {
  cores: number;
  /** Approved payments (api: create + capture pairs) in the timed run, and its length. */
  payments: number;
  elapsedSeconds: number;
  /** CPU milliseconds per payment of each server and their sum (the denominator of the capacity). */
  serversMsPerPayment: { pay: number; issuer: number; postgres: number; total: number };
  /** cores ÷ servers' CPU per payment: payments per second. */
  capacityPerSecond: number;
  measuredPerSecond: number;
  pgbenchTps: number | null;
  /** capacityPerSecond ÷ pgbench TPS, and measured ÷ pgbench TPS (null without pgbench). */
  capacityRatio: number | null;
  measuredRatio: number | null;
  targets: Targets;
  capacityTargetMet: boolean | null;
  measuredTargetMet: boolean | null;
  /** The load generators' (devices') CPU per payment, ms. */
  loadgenMsPerPayment: number;
  split: CpuSplit;
}

export interface CapacityInput {
  cores: number;
  payments: number;
  elapsedSeconds: number;
  cpu: CpuUsage;
  pgbenchTps: number | null;
  targets: Targets;
}

/** The capacity and the ratios from a timed run's CPU and counts. */
export function capacityOf({ cores, payments, elapsedSeconds, cpu, pgbenchTps, targets }: CapacityInput): Capacity {
  if (!Number.isInteger(cores) || cores < 1) throw new RangeError(`cores must be a positive integer, got ${cores}`);
  const perPayment = (seconds: number) => (payments > 0 ? (1000 * seconds) / payments : Number.NaN);
  const pay = perPayment(cpu.serversSeconds);
  const issuer = perPayment(cpu.issuerSeconds);
  const postgres = perPayment(cpu.postgresSeconds);
  const total = pay + issuer + postgres;
  const capacityPerSecond = total > 0 ? (cores * 1000) / total : Number.NaN;
  const measuredPerSecond = elapsedSeconds > 0 ? payments / elapsedSeconds : 0;
  const ratio = (rate: number) =>
    pgbenchTps !== null && pgbenchTps > 0 && Number.isFinite(rate) ? rate / pgbenchTps : null;
  const capacityRatio = ratio(capacityPerSecond);
  const measuredRatio = ratio(measuredPerSecond);
  const met = (r: number | null, target: number | null) => (r === null || target === null ? null : r >= target);
  const busy = cpu.machineBusyShare * cores * elapsedSeconds;
  return {
    cores,
    payments,
    elapsedSeconds,
    serversMsPerPayment: { pay, issuer, postgres, total },
    capacityPerSecond,
    measuredPerSecond,
    pgbenchTps,
    capacityRatio,
    measuredRatio,
    targets,
    capacityTargetMet: met(capacityRatio, targets.capacity),
    measuredTargetMet: met(measuredRatio, targets.measured),
    loadgenMsPerPayment: perPayment(cpu.loadgenSeconds),
    split: {
      pay: cpu.serversSeconds,
      issuer: cpu.issuerSeconds,
      postgres: cpu.postgresSeconds,
      loadgens: cpu.loadgenSeconds,
      bench: cpu.benchSeconds,
      interrupts: cpu.irqSeconds,
      other: cpu.otherSeconds,
      steal: cpu.stealSeconds,
      idle: Math.max(0, cores * elapsedSeconds - busy - cpu.stealSeconds),
    },
  };
}

const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : "–");

/** "0.123 (target ≥ 0.10: missed)" */
export function ratioText(r: number | null, target: number | null, met: boolean | null): string {
  if (r === null) return "no pgbench, no ratio";
  return `${r.toFixed(3)} × pgbench${target === null ? "" : ` · target ≥ ${target.toFixed(2)}: ${met ? "met" : "missed"}`}`;
}

/** The capacity lines of a text report, `unit` naming what one payment is ("approved payments", "payments"). */
export function formatCapacity(c: Capacity, unit: string, withPgbench = true): string[] {
  const s = c.serversMsPerPayment;
  const issuer = s.issuer > 0 ? ` + issuer ${fixed(s.issuer, 2)}` : "";
  return [
    `  CAPACITY         ${fixed(c.capacityPerSecond, 1)} ${unit}/s   = ${c.cores} cores ÷ ${fixed(s.total, 2)} ms of servers' CPU per payment (pay ${fixed(s.pay, 2)}${issuer} + PostgreSQL ${fixed(s.postgres, 2)})   ${ratioText(c.capacityRatio, c.targets.capacity, c.capacityTargetMet)}`,
    `  MEASURED         ${fixed(c.measuredPerSecond, 1)} ${unit}/s   ${ratioText(c.measuredRatio, c.targets.measured, c.measuredTargetMet)}`,
    ...(withPgbench
      ? [`  pgbench          ${c.pgbenchTps === null ? "skipped" : `${c.pgbenchTps.toFixed(1)} TPS in the same run`}`]
      : []),
  ];
}

/** The CPU split as one line: seconds and share of the machine (cores × run length). */
export function formatSplit(c: Capacity, loadgenLabel: string): string {
  const all = c.cores * c.elapsedSeconds;
  const part = (label: string, seconds: number) =>
    `${label} ${seconds.toFixed(1)} s (${all > 0 ? ((100 * seconds) / all).toFixed(0) : "–"} %)`;
  const x = c.split;
  return [
    part("pay", x.pay),
    ...(x.issuer > 0 ? [part("issuer", x.issuer)] : []),
    part("PostgreSQL", x.postgres),
    part(loadgenLabel, x.loadgens),
    part("other (bench, interrupts, other processes, steal)", x.bench + x.interrupts + x.other + x.steal),
    part("idle", x.idle),
  ].join(" · ");
}
