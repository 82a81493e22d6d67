/**
 * What a timed run leaves on disk besides its report on stdout: `bench-results/<scenario>-<timestamp>.json` (the
 * report as `--json` prints it) and the HTML report next to it (`--html FILE` puts the page elsewhere). The folder
 * is gitignored. Also the parts of the HTML report that come from the capacity (bench/capacity.ts).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { ratioText, type Capacity } from "./capacity.ts";
import type { Headline, ReferenceLine, SplitPart } from "./html-report.ts";

export const RESULTS_DIR = "bench-results";

/** `2026-12-04T06-01-02Z`: sortable, and valid in a file name everywhere. */
export function fileStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replaceAll(":", "-");
}

/** Writes the JSON and the HTML report; answers their paths. */
export async function writeReportFiles(
  scenario: string,
  json: unknown,
  html: string,
  options: { htmlPath?: string; dir?: string; now?: Date } = {},
): Promise<{ json: string; html: string }> {
  const base = join(resolve(options.dir ?? RESULTS_DIR), `${scenario}-${fileStamp(options.now ?? new Date())}`);
  const paths = { json: `${base}.json`, html: options.htmlPath ? resolve(options.htmlPath) : `${base}.html` };
  await mkdir(dirname(paths.json), { recursive: true });
  await mkdir(dirname(paths.html), { recursive: true });
  await writeFile(paths.json, JSON.stringify(json, null, 2) + "\n");
  await writeFile(paths.html, html);
  return paths;
}

const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : "–");

/** The capacity's headline boxes. */
export function capacityHeadline(c: Capacity, unit: string, loadgenLabel: string): Headline[] {
  const s = c.serversMsPerPayment;
  return [
    {
      label: `Servers' capacity (${unit}/s)`,
      value: fixed(c.capacityPerSecond, 1),
      note: `${c.cores} cores ÷ ${fixed(s.total, 2)} ms servers' CPU per payment · ${ratioText(c.capacityRatio, c.targets.capacity, c.capacityTargetMet)}`,
    },
    {
      label: `Measured (${unit}/s)`,
      value: fixed(c.measuredPerSecond, 1),
      note: ratioText(c.measuredRatio, c.targets.measured, c.measuredTargetMet),
    },
    {
      label: "pgbench, same run",
      value: c.pgbenchTps === null ? "skipped" : `${c.pgbenchTps.toFixed(0)} TPS`,
    },
    {
      label: "Servers' CPU per payment",
      value: `${fixed(s.total, 2)} ms`,
      note: `pay ${fixed(s.pay, 2)}${s.issuer > 0 ? ` · issuer ${fixed(s.issuer, 2)}` : ""} · PostgreSQL ${fixed(s.postgres, 2)}`,
    },
    { label: `${loadgenLabel}: CPU per payment`, value: `${fixed(c.loadgenMsPerPayment, 2)} ms` },
  ];
}

/** The capacity and the target rate (the measured target × pgbench) as lines on the throughput chart. */
export function capacityReferences(c: Capacity): ReferenceLine[] {
  const lines: ReferenceLine[] = [];
  if (Number.isFinite(c.capacityPerSecond))
    lines.push({ label: "capacity", value: c.capacityPerSecond, color: "#7c3aed" });
  if (c.pgbenchTps !== null && c.targets.measured !== null)
    lines.push({
      label: "target",
      value: c.targets.measured * c.pgbenchTps,
      color: "#b45309",
    });
  return lines;
}

/** The CPU split's parts, in a fixed order and colours. */
export function splitParts(c: Capacity, loadgenLabel: string): SplitPart[] {
  const x = c.split;
  const parts: SplitPart[] = [{ label: "pay server(s)", seconds: x.pay, color: "#2563eb" }];
  if (x.issuer > 0) parts.push({ label: "issuer host", seconds: x.issuer, color: "#0891b2" });
  parts.push(
    { label: "PostgreSQL", seconds: x.postgres, color: "#7c3aed" },
    { label: loadgenLabel, seconds: x.loadgens, color: "#d97706" },
    { label: "bench, interrupts", seconds: x.bench + x.interrupts, color: "#6b7280" },
    { label: "other processes, steal", seconds: x.other + x.steal, color: "#dc2626" },
    { label: "idle", seconds: x.idle, color: "#d1d5db" },
  );
  return parts;
}
