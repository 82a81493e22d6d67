import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { capacityOf, PIN_PATH_TARGETS } from "./capacity.ts";
import type { CpuUsage } from "./cpu-usage.ts";
import { escapeHtml, niceMax, renderHtmlReport, splitBar, type HtmlReportInput } from "./html-report.ts";
import { capacityReferences, fileStamp, splitParts, writeReportFiles } from "./report-files.ts";

const cpu: CpuUsage = {
  serversSeconds: 6,
  issuerSeconds: 2,
  postgresSeconds: 4,
  loadgenSeconds: 3,
  benchSeconds: 0.5,
  irqSeconds: 0.5,
  otherSeconds: 1,
  stealSeconds: 0,
  machineBusyShare: 0.85,
};
const capacity = capacityOf({
  cores: 2,
  payments: 300,
  elapsedSeconds: 10,
  cpu,
  pgbenchTps: 2000,
  targets: PIN_PATH_TARGETS,
});

const input = (overrides: Partial<HtmlReportInput> = {}): HtmlReportInput => ({
  title: "MPay bench · pay",
  subtitle: "2 cores",
  generatedAt: "2026-12-04T06:00:00Z",
  headline: [{ label: "Capacity", value: "50.0", note: "0.025 × pgbench" }],
  unit: "approved payments",
  perSecond: [28, 31, 30, 0, 33],
  latency: [
    { count: 28, p50: 300, p99: 420 },
    { count: 31, p50: 310, p99: 450 },
    { count: 30, p50: 305, p99: 800 },
    { count: 0, p50: null, p99: null },
    { count: 33, p50: 290, p99: 410 },
  ],
  references: capacityReferences(capacity),
  split: splitParts(capacity, "devices"),
  totalSeconds: 20,
  notes: ["a note"],
  textReport: "report text",
  ...overrides,
});

describe("renderHtmlReport", () => {
  it("is one offline page: inline SVG series for throughput, p50/p99 and the CPU split, no script, nothing fetched", () => {
    const html = renderHtmlReport(input());
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toMatch(/<script|<link|src=|href=|@import|url\(/i);
    // Throughput: one bar per second with a value (the empty second's bar has no height).
    const throughput = html.slice(
      html.indexOf('<svg id="throughput"'),
      html.indexOf("</svg>", html.indexOf('<svg id="throughput"')),
    );
    expect(throughput.match(/<rect class="bar"/g)).toHaveLength(5);
    expect(throughput).toContain("second 3: 30.0 approved payments");
    // The capacity (50/s) and the target rate (0.05 × 2000 = 100/s) as reference lines.
    expect(throughput).toContain("capacity 50.0");
    expect(throughput).toContain("target 100");
    // Latency: p50 and p99 lines, broken at the second in which nothing completed.
    const latency = html.slice(
      html.indexOf('<svg id="latency"'),
      html.indexOf("</svg>", html.indexOf('<svg id="latency"')),
    );
    expect(latency.match(/<polyline/g)).toHaveLength(2); // seconds 1–3 per series; second 5 alone is a dot only
    expect(latency).toContain("second 3: p99 ms 800");
    expect(latency).not.toContain("second 4:");
    // CPU split: every process, with its seconds and share of 2 cores × 10 s.
    const split = html.slice(html.indexOf('<svg id="cpu-split"'));
    for (const text of [
      "pay server(s): 6.0 s (30 %)",
      "issuer host: 2.0 s (10 %)",
      "PostgreSQL: 4.0 s (20 %)",
      "devices: 3.0 s (15 %)",
      "idle: 3.0 s (15 %)",
    ])
      expect(split).toContain(text);
  });

  it("escapes every text that comes from outside", () => {
    const html = renderHtmlReport(
      input({
        title: "<script>alert(1)</script>",
        notes: ['"quoted" & <b>bold</b>'],
        textReport: "</pre><img src=x onerror=alert(1)>",
        headline: [{ label: "x'y", value: "<1>" }],
      }),
    );
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;");
    expect(html).toContain("x&#39;y");
    expect(escapeHtml(`<>&"'`)).toBe("&lt;&gt;&amp;&quot;&#39;");
  });

  it("shows what is not accounted for in the split, and rounds the axes", () => {
    expect(splitBar([{ label: "pay", seconds: 5, color: "#2563eb" }], 20)).toContain("unaccounted: 15.0 s (75 %)");
    expect([niceMax(0), niceMax(7), niceMax(31), niceMax(120), niceMax(2329)]).toEqual([1, 10, 50, 200, 2500]);
  });
});

describe("writeReportFiles", () => {
  it("writes the JSON and the HTML next to it, or the HTML where --html says", async () => {
    const dir = await mkdtemp(join(tmpdir(), "bench-report-"));
    try {
      const now = new Date("2026-12-04T06:01:02.345Z");
      expect(fileStamp(now)).toBe("2026-12-04T06-01-02Z");
      const paths = await writeReportFiles("pay", { capacity }, "<!doctype html>", { dir, now });
      expect(paths).toEqual({
        json: join(dir, "pay-2026-12-04T06-01-02Z.json"),
        html: join(dir, "pay-2026-12-04T06-01-02Z.html"),
      });
      expect(JSON.parse(await readFile(paths.json, "utf8")).capacity.capacityPerSecond).toBeCloseTo(50);
      const elsewhere = await writeReportFiles("api", {}, "<p>x</p>", {
        dir,
        now,
        htmlPath: join(dir, "sub", "r.html"),
      });
      expect(await readFile(elsewhere.html, "utf8")).toBe("<p>x</p>");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
