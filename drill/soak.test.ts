/**
 * The soak drill's cheap part (issue 12): its verdict maths on synthetic series whose answer is known, its chart,
 * and the metric names it reads. The soak itself runs for minutes:
 * `npm run drill -- soak` (docs/operations.md "Soak drill").
 */
import { describe, expect, it } from "vitest";
import { collectDefaultMetrics, Registry } from "prom-client";
import { parseMetrics, percentile, SAMPLED_METRICS } from "./soak-sampler.ts";
import { afterWarmUp, BOUNDS, leastSquares, verdict, type Sample } from "./soak-trend.ts";
import { soakChartSvg } from "./soak-chart.ts";
import { floorOver, parseSoakOptions } from "./soak.ts";

/** A deterministic wobble in [-1, 1] (no Math.random: the test must give one answer). */
const wobble = (i: number) => Math.sin(i * 12.9898) * 0.5 + Math.sin(i * 78.233) * 0.5;

/** Every 5 s for `minutes`: value(t) plus noise of amplitude `noise`. */
function series(minutes: number, value: (t: number) => number, noise: number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0, t = 0; t <= minutes * 60; i++, t += 5) out.push({ t, value: value(t) + noise * wobble(i) });
  return out;
}

describe("the soak drill's verdict", () => {
  it("fits a line exactly and finds no error on one", () => {
    const fit = leastSquares(series(10, (t) => 3 + 0.25 * t, 0));
    expect(fit.slope).toBeCloseTo(0.25, 12);
    expect(fit.intercept).toBeCloseTo(3, 9);
    expect(fit.slopeError).toBeCloseTo(0, 9);
  });

  it("leaves the warm-up (the first third) out of the fit", () => {
    const samples = series(30, () => 1, 0);
    const kept = afterWarmUp(samples);
    expect(kept[0]!.t).toBe(600);
    expect(kept.at(-1)!.t).toBe(1800);
    // A heap that climbs while warming up and then holds still is flat.
    const warming = series(30, (t) => (t < 500 ? 50 + t / 10 : 100), 2);
    expect(verdict(warming, BOUNDS.memory).flat).toBe(true);
    expect(verdict(warming, BOUNDS.memory).fit.mean).toBeCloseTo(100, 0);
  });

  it("calls a noisy flat heap flat and a 20 %/h leak not flat", () => {
    const steady = verdict(
      series(30, () => 120, 8),
      BOUNDS.memory,
    );
    expect(steady.flat).toBe(true);
    // 120 MiB growing 20 % of 120 an hour = 24 MiB/h, twice the bound.
    const leak = verdict(
      series(30, (t) => 120 + (24 * t) / 3600, 2),
      BOUNDS.memory,
    );
    expect(leak.flat).toBe(false);
    expect(leak.projected24h).toBeCloseTo(24 * 24, -1);
    // 5 %/h is inside the bound.
    expect(
      verdict(
        series(30, (t) => 120 + (6 * t) / 3600, 1),
        BOUNDS.memory,
      ).flat,
    ).toBe(true);
  });

  it("judges connections, the outbox and throughput in their own direction", () => {
    expect(
      verdict(
        series(30, () => 6, 1),
        BOUNDS.connections,
      ).flat,
    ).toBe(true);
    // One connection more every 10 minutes.
    expect(
      verdict(
        series(30, (t) => 4 + t / 600, 0.2),
        BOUNDS.connections,
      ).flat,
    ).toBe(false);
    // An outbox that gains a row every 30 s falls behind (2,880 a day).
    expect(
      verdict(
        series(30, (t) => t / 30, 1),
        BOUNDS.outbox,
      ).flat,
    ).toBe(false);
    // Throughput falling by half in 30 minutes is not flat; rising is not a failure.
    expect(
      verdict(
        series(30, (t) => 10 - (5 * t) / 1800, 0.3),
        BOUNDS.throughput,
      ).flat,
    ).toBe(false);
    expect(
      verdict(
        series(30, (t) => 10 + (5 * t) / 1800, 0.3),
        BOUNDS.throughput,
      ).flat,
    ).toBe(true);
  });

  it("widens the error for samples that follow each other: a rise and fall is undecided, not a leak", () => {
    // The first 30-minute soak's RSS: steady at 250 MiB, a hump of +120 MiB late in the run, back by the end.
    const hump = series(30, (t) => 250 + 120 * Math.exp(-(((t - 1350) / 150) ** 2)), 10);
    const judged = verdict(hump, BOUNDS.memory);
    expect(judged.fit.autocorrelation).toBeGreaterThan(0.9);
    expect(judged.judgement).toBe("undecided");
    expect(judged.flat).toBe(true); // no clear growth: the drill passes, and the report says "undecided"
    // Taken as independent samples, the same hump was a clear leak: the widening is what tells them apart.
    const rho = judged.fit.autocorrelation;
    const independentError = judged.fit.slopeError / Math.sqrt((1 + rho) / (1 - rho));
    expect((judged.fit.slope - 2 * independentError) * 86_400).toBeGreaterThan(judged.allowed24h);
    // Noise that does not follow itself is not widened, and a clear leak through it stays a leak.
    const steady = verdict(
      series(30, () => 250, 10),
      BOUNDS.memory,
    );
    expect(steady.fit.autocorrelation).toBeLessThan(0.2);
    expect(steady.judgement).toBe("flat");
    expect(steady.resolution24h).toBeLessThan(steady.allowed24h);
    expect(
      verdict(
        series(30, (t) => 250 + (50 * t) / 3600, 10),
        BOUNDS.memory,
      ).judgement,
    ).toBe("not flat");
  });

  it("draws one panel per series, the failing one in red, and computes percentiles by nearest rank", () => {
    const good = series(30, () => 10, 0.2);
    const bad = series(5, (t) => t, 0);
    const svg = soakChartSvg(
      [
        { title: "heap used", unit: "MiB", samples: good, verdict: verdict(good, BOUNDS.memory) },
        { title: "outbox", unit: "rows", samples: bad, verdict: verdict(bad, BOUNDS.outbox) },
      ],
      "caption <test>",
    );
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(4);
    expect(svg).toContain("heap used (MiB): flat");
    expect(svg).toContain("outbox (rows): NOT flat");
    const hump = series(30, (t) => 50 + 30 * Math.exp(-(((t - 1350) / 150) ** 2)), 1);
    expect(
      soakChartSvg([{ title: "rss", unit: "MiB", samples: hump, verdict: verdict(hump, BOUNDS.memory) }], "c"),
    ).toContain("rss (MiB): undecided");
    expect(svg).toContain("caption &lt;test&gt;");
    expect(percentile([5, 1, 4, 2, 3], 99)).toBe(5);
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([], 99)).toBe(0);
  });

  it("judges the heap by its floor: a GC sawtooth over a steady floor is flat, a rising floor is not", () => {
    const sawtooth = (rise: number) => {
      const raw = series(30, (t) => 60 + ((t % 60) / 60) * 30 + (rise * t) / 3600, 0);
      return raw.map((s) => ({ t: s.t, value: floorOver(raw, s.t, 60) }));
    };
    expect(
      floorOver(
        [
          { t: 0, value: 5 },
          { t: 30, value: 3 },
          { t: 70, value: 4 },
        ],
        70,
        60,
      ),
    ).toBe(3);
    expect(verdict(sawtooth(0), BOUNDS.memory).flat).toBe(true);
    // 12 MiB/h on a 60 MiB floor: 20 %/h.
    expect(verdict(sawtooth(12), BOUNDS.memory).flat).toBe(false);
  });

  it("refuses bad options", () => {
    expect(() => parseSoakOptions(["--minutes", "0"], {})).toThrow(/--minutes/);
    expect(() => parseSoakOptions(["--concurrency", "1.5"], {})).toThrow(/--concurrency/);
    expect(() => parseSoakOptions(["--payers", "0"], {})).toThrow(/--payers/);
    // A phone approves one payment at a time: more in flight than phones would only queue.
    expect(() => parseSoakOptions(["--payers", "4", "--concurrency", "5"], {})).toThrow(/more than --payers 4/);
    expect(parseSoakOptions([], {})).toMatchObject({ payers: 16, concurrency: 16 });
    expect(parseSoakOptions(["--payers", "8", "--concurrency", "3"], {})).toMatchObject({ payers: 8, concurrency: 3 });
    expect(parseSoakOptions(["--minutes", "5", "--rate", "2"], { NATS_URL: "off" })).toMatchObject({
      seconds: 300,
      rate: 2,
      natsUrl: undefined,
      databaseUrl: undefined,
    });
  });

  it("reads the process metrics prom-client exposes (the outbox gauges are checked on the real app in events-relay.test.ts)", async () => {
    // The pay server's registry has prom-client's default metrics (app.ts): the same call on a registry of our own.
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    await new Promise((r) => setTimeout(r, 20)); // the event-loop monitor's first reading
    const metrics = parseMetrics(
      `${await registry.metrics()}\nmpay_events_unpublished 2\nmpay_webhook_deliveries{status="pending"} 3\n`,
    );
    for (const name of Object.values(SAMPLED_METRICS)) expect(metrics.has(name), name).toBe(true);
    expect(metrics.get(SAMPLED_METRICS.rss)).toBeGreaterThan(10 * 2 ** 20);
    expect(metrics.get(SAMPLED_METRICS.heap)).toBeGreaterThan(2 ** 20);
    expect(metrics.get(SAMPLED_METRICS.pendingDeliveries)).toBe(3);
  });
});
