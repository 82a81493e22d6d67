/**
 * The HTML report of a timed run (issue 11, "Charts"): one self-contained page — inline SVG and CSS, no script, no
 * dependency, nothing fetched — so that it renders offline and can be attached to an issue as it is. It shows:
 *
 * - the headline figures (capacity, measured rate, their ratios to pgbench and the targets);
 * - throughput per second, with the capacity and the target rate as horizontal lines, so that a reader sees how far
 *   the measured rate sits below what the servers' CPU would allow;
 * - the p50 and p99 latency of the operations that completed in each second;
 * - the CPU split of the run by process as one stacked bar (cores × run length = 100 %);
 * - the text report itself.
 *
 * Every text that comes from outside (labels, notes, the text report) is escaped.
 */
import type { SecondLatency } from "./timeline.ts";

export interface Headline {
  label: string;
  value: string;
  note?: string;
}

export interface ReferenceLine {
  label: string;
  value: number;
  color: string;
}

export interface SplitPart {
  label: string;
  seconds: number;
  color: string;
}

export interface HtmlReportInput {
  title: string;
  /** One line saying what ran (processes, clients, seconds). */
  subtitle: string;
  generatedAt: string;
  headline: Headline[];
  /** Completed operations in each whole second of the timed run. */
  perSecond: number[];
  /** What one operation is, plural ("approved payments"). */
  unit: string;
  /** p50 and p99 of the operations completed in each of those seconds. */
  latency: SecondLatency[];
  /** Horizontal lines on the throughput chart (capacity, target). */
  references: ReferenceLine[];
  /** Where the cores went; the parts add up to `totalSeconds` at most (the rest is shown as unaccounted). */
  split: SplitPart[];
  totalSeconds: number;
  notes: string[];
  textReport: string;
}

/** HTML text and attribute escaping (&, <, >, ", '). */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

const W = 760;
const H = 260;
const PAD = { left: 56, right: 150, top: 34, bottom: 36 };

/** A round axis maximum at or above `v` (1, 2, 2.5, 5 × a power of ten). */
export function niceMax(v: number): number {
  if (!Number.isFinite(v) || v <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 2.5, 5, 10]) if (v <= step * power) return step * power;
  return 10 * power;
}

const num = (v: number) =>
  v === 0 ? "0" : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);

interface Series {
  label: string;
  color: string;
  values: Array<number | null>;
  kind: "bars" | "line";
}

/** One chart over the run's seconds: bars and/or lines, horizontal reference lines, axes and a legend. */
export function timeChart(options: {
  id: string;
  title: string;
  yLabel: string;
  series: Series[];
  references?: ReferenceLine[];
}): string {
  const { series, references = [] } = options;
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const values = series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const refs = references.filter((r) => Number.isFinite(r.value) && r.value > 0);
  const yMax = niceMax(Math.max(0, ...values, ...refs.map((r) => r.value)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / n;
  const x = (i: number) => PAD.left + slot * (i + 0.5);
  const y = (v: number) => PAD.top + plotH - (plotH * v) / yMax;
  const parts: string[] = [];
  // Grid and y axis.
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    parts.push(
      `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`,
      `<text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" class="tick" text-anchor="end">${num(v)}</text>`,
    );
  }
  // x axis: a tick every few seconds.
  const every = Math.max(1, Math.ceil(n / 15));
  for (let i = 0; i < n; i += every)
    parts.push(
      `<text x="${x(i).toFixed(1)}" y="${H - PAD.bottom + 16}" class="tick" text-anchor="middle">${i + 1}</text>`,
    );
  parts.push(
    `<text x="${PAD.left + plotW / 2}" y="${H - 4}" class="axis" text-anchor="middle">second of the timed run</text>`,
    `<text x="14" y="${PAD.top + plotH / 2}" class="axis" text-anchor="middle" transform="rotate(-90 14 ${PAD.top + plotH / 2})">${escapeHtml(options.yLabel)}</text>`,
  );
  for (const s of series) {
    if (s.kind === "bars") {
      s.values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) return;
        const top = y(v);
        parts.push(
          `<rect class="bar" x="${(x(i) - slot * 0.35).toFixed(1)}" y="${top.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${(PAD.top + plotH - top).toFixed(1)}" fill="${s.color}"><title>${escapeHtml(`second ${i + 1}: ${num(v)} ${s.label}`)}</title></rect>`,
        );
      });
    } else {
      // A polyline per run of seconds that have a value (a second with nothing completed breaks the line).
      let run: string[] = [];
      const flush = () => {
        if (run.length > 1)
          parts.push(`<polyline class="line" fill="none" stroke="${s.color}" points="${run.join(" ")}"/>`);
        run = [];
      };
      s.values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) return flush();
        run.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
        parts.push(
          `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${s.color}"><title>${escapeHtml(`second ${i + 1}: ${s.label} ${num(v)}`)}</title></circle>`,
        );
      });
      flush();
    }
  }
  // Reference lines, their labels in the right margin kept 13 px apart when the values are close.
  let lastLabelY = Number.NEGATIVE_INFINITY;
  for (const r of [...refs].sort((a, b) => b.value - a.value)) {
    const labelY = Math.max(y(r.value) + 4, lastLabelY + 13);
    lastLabelY = labelY;
    parts.push(
      `<line class="ref" x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(r.value).toFixed(1)}" y2="${y(r.value).toFixed(1)}" stroke="${r.color}"/>`,
      `<text x="${PAD.left + plotW + 6}" y="${labelY.toFixed(1)}" class="ref-label" fill="${r.color}">${escapeHtml(`${r.label} ${num(r.value)}`)}</text>`,
    );
  }
  // Legend above the plot, in a row (the right margin is the reference lines' labels').
  let lx = PAD.left;
  for (const s of series) {
    parts.push(
      `<rect x="${lx}" y="8" width="10" height="10" fill="${s.color}"/>`,
      `<text x="${lx + 14}" y="17" class="legend">${escapeHtml(s.label)}</text>`,
    );
    lx += 24 + 6.5 * s.label.length;
  }
  const label = `${options.title}: ${series.map((s) => s.label).join(", ")} per second`;
  return `<svg id="${options.id}" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(label)}" xmlns="http://www.w3.org/2000/svg"><title>${escapeHtml(label)}</title>${parts.join("")}</svg>`;
}

/** Dark text on a light fill, white on a dark one (a #rrggbb colour's luminance). */
function labelColor(fill: string): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(fill);
  if (!m) return "#111827";
  const [r, g, b] = [m[1], m[2], m[3]].map((h) => Number.parseInt(h as string, 16));
  return 0.299 * (r as number) + 0.587 * (g as number) + 0.114 * (b as number) > 150 ? "#111827" : "#ffffff";
}

/** The CPU split as one stacked horizontal bar of `totalSeconds` (cores × run length), with a legend. */
export function splitBar(parts: SplitPart[], totalSeconds: number): string {
  const width = W - 20;
  const used = parts.reduce((a, p) => a + Math.max(0, p.seconds), 0);
  const total = Math.max(totalSeconds, used, 1e-9);
  const items = [...parts];
  if (totalSeconds - used > total * 0.005)
    items.push({ label: "unaccounted", seconds: totalSeconds - used, color: "#e5e7eb" });
  let at = 10;
  const rects: string[] = [];
  const legend: string[] = [];
  items.forEach((p, k) => {
    const w = (width * Math.max(0, p.seconds)) / total;
    const share = (100 * Math.max(0, p.seconds)) / total;
    const text = `${p.label}: ${p.seconds.toFixed(1)} s (${share.toFixed(0)} %)`;
    rects.push(
      `<rect class="split" x="${at.toFixed(1)}" y="10" width="${w.toFixed(1)}" height="34" fill="${p.color}"><title>${escapeHtml(text)}</title></rect>`,
    );
    if (w > 46)
      rects.push(
        `<text x="${(at + w / 2).toFixed(1)}" y="32" class="split-label" text-anchor="middle" fill="${labelColor(p.color)}">${share.toFixed(0)} %</text>`,
      );
    at += w;
    const lx = 10 + (k % 2) * 370;
    const ly = 66 + Math.floor(k / 2) * 18;
    legend.push(
      `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${p.color}"/>`,
      `<text x="${lx + 14}" y="${ly}" class="legend">${escapeHtml(text)}</text>`,
    );
  });
  const height = 66 + Math.ceil(items.length / 2) * 18;
  const label = `CPU split of the timed run: ${items.map((p) => `${p.label} ${p.seconds.toFixed(1)} s`).join(", ")}`;
  return `<svg id="cpu-split" class="chart" viewBox="0 0 ${W} ${height}" role="img" aria-label="${escapeHtml(label)}" xmlns="http://www.w3.org/2000/svg"><title>${escapeHtml(label)}</title>${rects.join("")}${legend.join("")}</svg>`;
}

const STYLE = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #111827; background: #fff; }
main { max-width: 800px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.35rem; margin: 0 0 4px; }
h2 { font-size: 1.05rem; margin: 24px 0 6px; }
p.sub { color: #4b5563; margin: 0 0 12px; }
dl.headline { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 8px; margin: 0; }
dl.headline div { border: 1px solid #d1d5db; border-radius: 6px; padding: 8px 10px; }
dt { font-size: .8rem; color: #4b5563; } dd { margin: 0; font-size: 1.15rem; font-weight: 600; }
dd small { display: block; font-size: .78rem; font-weight: 400; color: #374151; }
div.chart { overflow-x: auto; }
svg.chart { width: 100%; min-width: 560px; height: auto; display: block; }
.grid { stroke: #e5e7eb; } .tick, .legend { font-size: 11px; fill: #374151; } .axis { font-size: 11px; fill: #4b5563; }
.line { stroke-width: 2; } .ref { stroke-width: 1.5; stroke-dasharray: 6 4; } .ref-label { font-size: 11px; font-weight: 600; }
.split-label { font-size: 12px; font-weight: 600; }
ul.notes { padding-left: 20px; color: #374151; }
pre { font-size: 11px; overflow-x: auto; background: #f3f4f6; padding: 8px; border-radius: 6px; }
`;

export function renderHtmlReport(r: HtmlReportInput): string {
  const headline = r.headline
    .map(
      (h) =>
        `<div><dt>${escapeHtml(h.label)}</dt><dd>${escapeHtml(h.value)}${h.note ? `<small>${escapeHtml(h.note)}</small>` : ""}</dd></div>`,
    )
    .join("");
  const throughput = timeChart({
    id: "throughput",
    title: "Throughput",
    yLabel: `${r.unit}/s`,
    series: [{ label: `${r.unit}/s`, color: "#2563eb", values: r.perSecond, kind: "bars" }],
    references: r.references,
  });
  const latency = timeChart({
    id: "latency",
    title: "Latency",
    yLabel: "ms",
    series: [
      { label: "p50 ms", color: "#059669", values: r.latency.map((s) => s.p50), kind: "line" },
      { label: "p99 ms", color: "#dc2626", values: r.latency.map((s) => s.p99), kind: "line" },
    ],
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(r.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(r.title)}</h1>
<p class="sub">${escapeHtml(r.subtitle)} · ${escapeHtml(r.generatedAt)}</p>
<dl class="headline">${headline}</dl>
<h2>Throughput per second</h2>
<p class="sub">Dashed: the servers' capacity, and the target rate (the measured target × the same run's pgbench TPS).</p>
<div class="chart">${throughput}</div>
<h2>Latency per second (p50, p99)</h2>
<div class="chart">${latency}</div>
<h2>Where the CPU went (cores × run length = 100 %)</h2>
<div class="chart">${splitBar(r.split, r.totalSeconds)}</div>
<ul class="notes">${r.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>
<h2>Text report</h2>
<pre>${escapeHtml(r.textReport)}</pre>
</main>
</body>
</html>
`;
}
