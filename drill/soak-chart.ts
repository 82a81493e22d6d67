/**
 * The soak drill's chart: one small panel per series (its samples, the warm-up shaded, the fitted line over the
 * rest, the verdict in the title), as a hand-written SVG — no chart library for a file a reviewer opens once.
 */
import type { Sample, Verdict } from "./soak-trend.ts";

export interface ChartSeries {
  title: string;
  unit: string;
  samples: readonly Sample[];
  verdict: Verdict;
}

const W = 460;
const H = 170;
const PAD = { left: 64, right: 12, top: 28, bottom: 26 };

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A short number for an axis label. */
export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100 || v === Math.round(v)) return v.toFixed(0);
  return v.toPrecision(3);
}

function panel(s: ChartSeries, x0: number, y0: number): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const ts = s.samples.map((p) => p.t);
  const vs = s.samples.map((p) => p.value);
  const tMin = Math.min(...ts, 0);
  const tMax = Math.max(...ts, tMin + 1);
  const vMin = Math.min(0, ...vs);
  const vMax = Math.max(...vs, vMin + 1e-9) * 1.1;
  const x = (t: number) => x0 + PAD.left + ((t - tMin) / (tMax - tMin)) * plotW;
  const y = (v: number) => y0 + PAD.top + plotH - ((v - vMin) / (vMax - vMin)) * plotH;
  const warmEnd = tMin + (tMax - tMin) / 3;
  const line = s.samples.map((p) => `${x(p.t).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  const { slope, intercept } = s.verdict.fit;
  const fitted = [warmEnd, tMax].map((t) => `${x(t).toFixed(1)},${y(intercept + slope * t).toFixed(1)}`).join(" ");
  const colour = { flat: "#1a7f37", "not flat": "#cf222e", undecided: "#9a6700" }[s.verdict.judgement];
  return [
    `<g>`,
    `<rect x="${x(tMin)}" y="${y0 + PAD.top}" width="${(x(warmEnd) - x(tMin)).toFixed(1)}" height="${plotH}" fill="#eee"/>`,
    `<line x1="${x0 + PAD.left}" y1="${y0 + PAD.top + plotH}" x2="${x0 + W - PAD.right}" y2="${y0 + PAD.top + plotH}" stroke="#999"/>`,
    `<line x1="${x0 + PAD.left}" y1="${y0 + PAD.top}" x2="${x0 + PAD.left}" y2="${y0 + PAD.top + plotH}" stroke="#999"/>`,
    `<text x="${x0 + PAD.left}" y="${y0 + 16}" font-size="13" fill="${colour}">${escape(`${s.title} (${s.unit}): ${s.verdict.judgement === "not flat" ? "NOT flat" : s.verdict.judgement}`)}</text>`,
    `<text x="${x0 + PAD.left - 4}" y="${y(vMax) + 4}" font-size="10" text-anchor="end">${shortNumber(vMax)}</text>`,
    `<text x="${x0 + PAD.left - 4}" y="${y(vMin)}" font-size="10" text-anchor="end">${shortNumber(vMin)}</text>`,
    `<text x="${x(tMax)}" y="${y0 + H - 8}" font-size="10" text-anchor="end">${Math.round(tMax)} s</text>`,
    `<polyline points="${line}" fill="none" stroke="#0969da" stroke-width="1.2"/>`,
    `<polyline points="${fitted}" fill="none" stroke="${colour}" stroke-width="2" stroke-dasharray="5,3"/>`,
    `</g>`,
  ].join("\n");
}

/** Two panels a row; the caption under them. */
export function soakChartSvg(series: readonly ChartSeries[], caption: string): string {
  const rows = Math.ceil(series.length / 2);
  const height = rows * H + 30;
  const panels = series.map((s, i) => panel(s, (i % 2) * W, Math.floor(i / 2) * H));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${height}" viewBox="0 0 ${2 * W} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels,
    `<text x="10" y="${height - 10}" font-size="11" fill="#555">${escape(caption)}</text>`,
    `</svg>`,
  ].join("\n");
}
