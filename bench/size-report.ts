/**
 * `pay --enrolled 1000,10000,100000`: one run per size, side by side — the servers' CPU per approved payment and the
 * path's p99 — against issue 11's "cost flat with size": each within 20 % of the others (largest ÷ smallest ≤ 1.2).
 */
import type { PayReport } from "./pay-report.ts";

export const FLAT_WITHIN = 0.2;

export interface SizeRow {
  enrolled: number;
  approvedPerSecond: number;
  cpuMsPerPayment: { pay: number; issuer: number; postgres: number; servers: number };
  p99Ms: number;
  openLoopP99Ms: number | null;
}

export function sizeRow(enrolled: number, r: PayReport): SizeRow {
  const c = r.payments.cpu.perOpMs;
  return {
    enrolled,
    approvedPerSecond: r.payments.rate,
    cpuMsPerPayment: {
      pay: c.servers,
      issuer: c.issuer,
      postgres: c.postgres,
      servers: c.servers + c.issuer + c.postgres,
    },
    p99Ms: r.payments.latencyMs.op.p99,
    openLoopP99Ms: r.openLoop?.pathMs.p99 ?? null,
  };
}

/** Largest ÷ smallest − 1 of positive values (0 for fewer than two). */
export function spread(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x) && x > 0);
  return v.length < 2 ? 0 : Math.max(...v) / Math.min(...v) - 1;
}

export function sizesJson(runs: Array<{ enrolled: number; report: PayReport }>) {
  const rows = runs.map((r) => sizeRow(r.enrolled, r.report));
  const cpuSpread = spread(rows.map((r) => r.cpuMsPerPayment.servers));
  const p99Spread = spread(rows.map((r) => r.p99Ms));
  return {
    rows,
    cpuSpread,
    p99Spread,
    within: FLAT_WITHIN,
    cpuFlat: cpuSpread <= FLAT_WITHIN,
    p99Flat: p99Spread <= FLAT_WITHIN,
  };
}

export function formatSizes(runs: Array<{ enrolled: number; report: PayReport }>): string {
  const s = sizesJson(runs);
  const pct = (v: number) => `${(100 * v).toFixed(0)} %`;
  const lines = [
    "",
    "MPay bench · pay: cost with size (one run per number of payers seeded in bulk)",
    "  enrolled   approved/s   servers' CPU per payment ms (pay · issuer · PostgreSQL = total)   path p99 ms   open-loop p99 ms",
    ...s.rows.map(
      (r) =>
        `  ${String(r.enrolled).padStart(8)}   ${r.approvedPerSecond.toFixed(1).padStart(10)}   ${`${r.cpuMsPerPayment.pay.toFixed(2)} · ${r.cpuMsPerPayment.issuer.toFixed(2)} · ${r.cpuMsPerPayment.postgres.toFixed(2)} = ${r.cpuMsPerPayment.servers.toFixed(2)}`.padEnd(62)}   ${r.p99Ms.toFixed(1).padStart(11)}   ${r.openLoopP99Ms === null ? "—" : r.openLoopP99Ms.toFixed(1)}`,
    ),
    `  spread     CPU per payment ${pct(s.cpuSpread)} (${s.cpuFlat ? "within" : "NOT within"} ${pct(FLAT_WITHIN)}) · p99 ${pct(s.p99Spread)} (${s.p99Flat ? "within" : "NOT within"} ${pct(FLAT_WITHIN)})   (largest ÷ smallest − 1)`,
  ];
  return lines.join("\n") + "\n";
}
