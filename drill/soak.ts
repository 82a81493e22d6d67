/**
 * `npm run drill -- soak --minutes 30 [--payers 16] [--rate R]`: the real system (the crash drill's: issuer host and
 * pay server as processes, a merchant's webhook endpoint, payers' phones) under a steady load at half of its capacity, for
 * long enough to see a leak (issue 12). Every few seconds it samples the pay server's memory, heap and event-loop
 * delay, PostgreSQL's connections, the outbox, and the payments' rate and p99; at the end each series must be
 * flat (soak-trend.ts), and with NATS_URL every event must be on the stream once.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { serverUrl, randomSuffix } from "../bench/postgres.ts";
import { parseOptions, UsageError, type Drill, type DrillResult } from "./scenario.ts";
import { MAX_PAYERS, startCrashSystem } from "./crash-system.ts";
import { CrashLoad } from "./crash-load.ts";
import { BENCH_KEY_STRETCHING } from "../bench/auth-wallet.ts";
import { ConnectionCounter, percentile, sampleServer } from "./soak-sampler.ts";
import { BOUNDS, verdict, type Bound, type Sample, type Verdict } from "./soak-trend.ts";
import { soakChartSvg } from "./soak-chart.ts";
import { countUnpublished } from "../services/pay/src/webhooks/events-relay-store.ts";
import { queryRows } from "../services/pay/src/db/client.ts";
import { sql } from "drizzle-orm";

export interface SoakOptions {
  seconds: number;
  /** Payments per second; undefined → half of the capacity measured first. */
  rate: number | undefined;
  /** Payers, each with a phone of its own that approves one payment at a time. */
  payers: number;
  /** Payments in flight at once (at most `payers`: more would only wait for a phone). */
  concurrency: number;
  sampleSeconds: number;
  capacitySeconds: number;
  databaseUrl: string | undefined;
  natsUrl: string | undefined;
  out: string;
}

const USAGE = [
  "  --minutes M           how long the soak runs (default 30; decimals allowed)",
  "  --rate R              payments per second (default: half of the capacity measured for --capacity-seconds)",
  "  --payers N            payers, each with its own phone, session, PIN and card (default 16, at most 45)",
  "  --concurrency N       payments in flight at once, at most --payers (default: --payers; a phone approves one at a time)",
  "  --sample-seconds S    sampling period (default 5)",
  "  --capacity-seconds S  how long the unpaced capacity run lasts (default 20)",
  "  --database-url URL    PostgreSQL server for a throwaway database (default DATABASE_URL; neither → PGlite)",
  "  --nats-url URL        publish events to NATS JetStream (default NATS_URL; 'off' for none)",
  "  --out DIR             where the chart and the samples go (default test-artifacts/soak)",
].join("\n");

export function parseSoakOptions(args: string[], env: NodeJS.ProcessEnv = process.env): SoakOptions {
  const { values, positiveInteger, positiveNumber } = parseOptions(args, {
    minutes: { type: "string" },
    rate: { type: "string" },
    payers: { type: "string" },
    concurrency: { type: "string" },
    "sample-seconds": { type: "string" },
    "capacity-seconds": { type: "string" },
    "database-url": { type: "string" },
    "nats-url": { type: "string" },
    out: { type: "string" },
  });
  const nats = values["nats-url"] ?? env["NATS_URL"];
  const payers = positiveInteger("payers", 16);
  if (payers > MAX_PAYERS)
    throw new UsageError(
      `--payers must be at most ${MAX_PAYERS} (the simulator's enrollment codes per card), got ${payers}`,
    );
  const concurrency = positiveInteger("concurrency", payers);
  if (concurrency > payers)
    throw new UsageError(
      `--concurrency ${concurrency} is more than --payers ${payers}: a phone approves one payment at a time`,
    );
  return {
    seconds: positiveNumber("minutes", 30) * 60,
    rate: positiveNumber("rate", undefined),
    payers,
    concurrency,
    sampleSeconds: positiveNumber("sample-seconds", 5),
    capacitySeconds: positiveNumber("capacity-seconds", 20),
    databaseUrl: values["database-url"] ?? (env["DATABASE_URL"] ? serverUrl(env) : undefined),
    natsUrl: nats && nats !== "off" ? nats : undefined,
    out: resolve(values.out ?? "test-artifacts/soak"),
  };
}

export interface SeriesResult {
  key: string;
  title: string;
  unit: string;
  samples: Sample[];
  verdict: Verdict;
  bound: Bound;
}

export interface SoakRun {
  options: SoakOptions;
  backend: "PostgreSQL" | "PGlite";
  capacity: number | null;
  rate: number;
  payments: number;
  refusals: Record<string, number>;
  series: SeriesResult[];
  /** Extra checks: the server lived, every event reached the stream once. */
  checks: { name: string; ok: boolean; detail: string }[];
  chartPath: string;
  csvPath: string;
  seconds: number;
}

/** Payments/s and their p99 are taken over this trailing window. */
const RATE_WINDOW_SECONDS = 30;
/**
 * The heap is judged by its floor over this trailing window (the lowest sample): what survives garbage collection
 * is what leaks; the sawtooth between collections is noise a short run's slope would mistake for growth.
 */
const HEAP_FLOOR_SECONDS = 60;

/** The lowest value among the samples of the last `seconds` up to t. */
export function floorOver(samples: readonly Sample[], t: number, seconds: number): number {
  let low = Number.POSITIVE_INFINITY;
  for (const s of samples) if (s.t > t - seconds && s.t <= t) low = Math.min(low, s.value);
  return low;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** One payment's life on the shared load; its duration in ms, or null when the server gave no answer. */
async function onePayment(load: CrashLoad): Promise<number | null> {
  const started = performance.now();
  let begun = false;
  const outcome = await load.run(() => {
    if (begun) return true;
    begun = true;
    return false;
  });
  return outcome === "no_answer" ? null : performance.now() - started;
}

interface Done {
  at: number;
  ms: number;
}

/** `concurrency` loops of payments; paced to `rate` per second when given. */
async function drive(
  load: CrashLoad,
  o: { seconds: number; concurrency: number; rate: number | undefined; done: Done[]; dead: () => void },
): Promise<void> {
  const start = performance.now();
  const end = start + o.seconds * 1000;
  let slot = 0;
  const worker = async () => {
    while (performance.now() < end) {
      if (o.rate !== undefined) {
        const due = start + (slot++ * 1000) / o.rate;
        if (due >= end) return;
        await sleep(due - performance.now());
      }
      const ms = await onePayment(load);
      if (ms === null) return o.dead();
      o.done.push({ at: performance.now(), ms });
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
}

export async function runSoak(options: SoakOptions, progress: (line: string) => void): Promise<SoakRun> {
  const started = Date.now();
  const suffix = randomSuffix();
  const stream = { name: `MPAY_SOAK_${suffix.toUpperCase()}`, prefix: `mpay.soak.${suffix}` };
  const natsEnv: Record<string, string> = options.natsUrl
    ? { NATS_URL: options.natsUrl, MPAY_NATS_STREAM: stream.name, MPAY_NATS_SUBJECT_PREFIX: stream.prefix }
    : {};
  let load: CrashLoad | undefined;
  const system = await startCrashSystem(
    options.databaseUrl,
    progress,
    async (payUrl, parts) => {
      progress(`binding ${options.payers} payers' phones and enrolling their cards`);
      load = await CrashLoad.prepare({
        payUrl,
        dir: parts.dir,
        sessionToken: parts.sessionToken,
        otherPayers: parts.otherSessionTokens,
        secretKey: parts.merchant.secretKey,
        issuer: parts.issuer,
        // The drill's process is every payer's phone: with the wallet's Argon2id (0.2–0.4 s of synchronous WASM per
        // PIN login) it could not approve more than a few payments a second, however many payers. The bench's
        // cheapest stretching runs on the phone only; the server does the same work with any (auth-wallet.ts).
        keyStretching: BENCH_KEY_STRETCHING,
      });
    },
    undefined,
    { payEnv: natsEnv, payers: options.payers },
  );
  let connections: ConnectionCounter | null = null;
  try {
    if (!load) throw new Error("the load was not prepared");
    const databaseUrl = options.databaseUrl
      ? await system.withSystem(async (pay) => pay.config.databaseUrl as string)
      : undefined;
    const server = await system.startPay(null);
    let died = false;
    const dead = () => void (died = true);

    let capacity: number | null = null;
    let rate = options.rate;
    if (rate === undefined) {
      progress(`measuring capacity: ${options.concurrency} payments in flight for ${options.capacitySeconds} s`);
      const done: Done[] = [];
      await drive(load, {
        seconds: options.capacitySeconds,
        concurrency: options.concurrency,
        rate: undefined,
        done,
        dead,
      });
      capacity = done.length / options.capacitySeconds;
      rate = capacity / 2;
      progress(`capacity ≈ ${capacity.toFixed(2)} payments/s; soaking at ${rate.toFixed(2)}/s`);
    }

    if (databaseUrl) connections = await ConnectionCounter.open(databaseUrl);
    const names = ["rss", "heap", "external", "connections", "loop", "outbox", "rate", "p99"] as const;
    const samples: Record<(typeof names)[number], Sample[]> = {
      rss: [],
      heap: [],
      external: [],
      connections: [],
      loop: [],
      outbox: [],
      rate: [],
      p99: [],
    };
    const done: Done[] = [];
    const heapRaw: Sample[] = [];
    const externalRaw: Sample[] = [];
    const soakStart = performance.now();
    let sampling = true;
    const sampler = (async () => {
      let last = soakStart;
      while (sampling && !died) {
        await sleep(last + options.sampleSeconds * 1000 - performance.now());
        // A sample taken after the load stopped would show its window half empty: a fall in the rate and a p99 of
        // the last stragglers, which the fit would read as the trend of the whole run.
        if (!sampling) break;
        const now = performance.now();
        const t = (now - soakStart) / 1000;
        // Payments over a trailing window several samples wide: at a low rate one sample's window holds 0 or 1.
        const window = done.filter((d) => d.at > now - RATE_WINDOW_SECONDS * 1000 && d.at <= now);
        const windowSeconds = Math.min(RATE_WINDOW_SECONDS, (now - soakStart) / 1000);
        last = now;
        try {
          const s = await sampleServer(server.url);
          samples.rss.push({ t, value: s.rssBytes / 2 ** 20 });
          heapRaw.push({ t, value: s.heapBytes / 2 ** 20 });
          samples.heap.push({ t, value: floorOver(heapRaw, t, HEAP_FLOOR_SECONDS) });
          externalRaw.push({ t, value: s.externalBytes / 2 ** 20 });
          samples.external.push({ t, value: floorOver(externalRaw, t, HEAP_FLOOR_SECONDS) });
          samples.loop.push({ t, value: s.loopP99Seconds * 1000 });
          samples.outbox.push({ t, value: s.outbox });
          if (connections) samples.connections.push({ t, value: await connections.count() });
        } catch (error) {
          progress(`sample at ${t.toFixed(0)} s failed: ${error instanceof Error ? error.message : String(error)}`);
        }
        samples.rate.push({ t, value: window.length / windowSeconds });
        if (window.length > 0)
          samples.p99.push({
            t,
            value: percentile(
              window.map((d) => d.ms),
              99,
            ),
          });
        if (samples.rate.length % 12 === 0)
          progress(
            `${t.toFixed(0)} s: ${(samples.rss.at(-1)?.value ?? 0).toFixed(0)} MiB RSS, ${done.length} payments`,
          );
      }
    })();
    progress(`soaking for ${options.seconds} s at ${rate.toFixed(2)} payments/s`);
    await drive(load, { seconds: options.seconds, concurrency: options.concurrency, rate, done, dead });
    sampling = false;
    await sampler;
    await connections?.close();
    connections = null;
    await server.stop();

    const checks: SoakRun["checks"] = [
      { name: "the pay server answered throughout", ok: !died, detail: died ? "a request got no answer" : "yes" },
    ];
    const { events, unpublished } = await system.withSystem(async (pay) => ({
      events: Number(
        (await queryRows<{ n: number | string }>(pay.database.db, sql`select count(*) as n from events`))[0]?.n,
      ),
      unpublished: await countUnpublished(pay.database.db),
    }));
    if (options.natsUrl) checks.push(await streamCheck(options.natsUrl, stream.name, events, unpublished));

    const series: SeriesResult[] = [
      { key: "rss", title: "pay server RSS", unit: "MiB", bound: BOUNDS.memory },
      { key: "heap", title: `heap used (${HEAP_FLOOR_SECONDS} s floor)`, unit: "MiB", bound: BOUNDS.memory },
      { key: "external", title: `external memory (${HEAP_FLOOR_SECONDS} s floor)`, unit: "MiB", bound: BOUNDS.memory },
      ...(databaseUrl
        ? [{ key: "connections", title: "PostgreSQL connections", unit: "count", bound: BOUNDS.connections }]
        : []),
      { key: "loop", title: "event-loop delay p99", unit: "ms", bound: BOUNDS.loopDelay },
      { key: "outbox", title: "outbox (deliveries + unpublished)", unit: "rows", bound: BOUNDS.outbox },
      { key: "rate", title: `payments (${RATE_WINDOW_SECONDS} s window)`, unit: "per s", bound: BOUNDS.throughput },
      { key: "p99", title: `payment p99 (${RATE_WINDOW_SECONDS} s window)`, unit: "ms", bound: BOUNDS.latency },
    ].map((s) => {
      const points = samples[s.key as (typeof names)[number]];
      return { ...s, samples: points, verdict: verdict(points, s.bound) };
    });

    await mkdir(options.out, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const backend = options.databaseUrl ? "PostgreSQL" : "PGlite";
    const chartPath = join(options.out, `soak-${backend.toLowerCase()}-${stamp}.svg`);
    const csvPath = join(options.out, `soak-${backend.toLowerCase()}-${stamp}.csv`);
    const caption = `Soak (${backend}) ${(options.seconds / 60).toFixed(1)} min at ${rate.toFixed(2)} payments/s; grey: warm-up (first third), dashed: least-squares fit`;
    await writeFile(chartPath, soakChartSvg(series, caption));
    await writeFile(
      csvPath,
      [
        "series,t_seconds,value",
        ...series.flatMap((s) => s.samples.map((p) => `${s.key},${p.t.toFixed(1)},${p.value}`)),
      ].join("\n"),
    );
    return {
      options,
      backend,
      capacity,
      rate,
      payments: done.length,
      refusals: load.tally.refusals,
      series,
      checks,
      chartPath,
      csvPath,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await connections?.close().catch(() => undefined);
    await system.close();
  }
}

/** Every event of the run is on the stream, once (message ids are event ids); the stream is deleted after. */
async function streamCheck(
  natsUrl: string,
  name: string,
  events: number,
  unpublished: number,
): Promise<{ name: string; ok: boolean; detail: string }> {
  const nc = await connect({ servers: natsUrl.split(",") });
  try {
    const manager = await jetstreamManager(nc);
    const info = await manager.streams.info(name);
    await manager.streams.delete(name);
    const ok = unpublished === 0 && info.state.messages === events;
    return {
      name: "every event on NATS JetStream once",
      ok,
      detail: `${events} events in the database, ${info.state.messages} messages on ${name}, ${unpublished} unpublished`,
    };
  } finally {
    await nc.close();
  }
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && a < 0.01) return v.toExponential(1);
  return a >= 100 ? v.toFixed(0) : v.toFixed(2);
}

export function soakReport(run: SoakRun): string {
  const header = `${"series".padEnd(34)} ${"unit".padEnd(6)} ${"first".padStart(8)} ${"last".padStart(8)} ${"mean*".padStart(8)} ${"24h proj.".padStart(10)} ${"bound/24h".padStart(10)} ${"seen ±".padStart(8)}  verdict`;
  const rows = run.series.map((s) => {
    const v = s.verdict;
    return `${s.title.padEnd(34)} ${s.unit.padEnd(6)} ${fmt(s.samples[0]?.value ?? 0).padStart(8)} ${fmt(s.samples.at(-1)?.value ?? 0).padStart(8)} ${fmt(v.fit.mean).padStart(8)} ${fmt(v.projected24h).padStart(10)} ${fmt(v.allowed24h).padStart(10)} ${fmt(v.resolution24h).padStart(8)}  ${v.judgement === "not flat" ? "NOT FLAT" : v.judgement} (${s.bound.text})`;
  });
  const refusals = Object.entries(run.refusals);
  return [
    `Soak drill (${run.backend}${run.options.natsUrl ? " + NATS JetStream" : ""}): ${(run.options.seconds / 60).toFixed(1)} min, ${run.payments} payments at ${run.rate.toFixed(2)}/s` +
      (run.capacity === null ? " (--rate)" : ` (half of the ${run.capacity.toFixed(2)}/s measured)`) +
      `, ${run.options.payers} payers, ${run.options.concurrency} in flight, sampled every ${run.options.sampleSeconds} s; ${run.seconds.toFixed(0)} s in all`,
    "",
    header,
    ...rows,
    "",
    "mean*: after the warm-up (the last 2/3, where the slope is fitted). 24h proj.: slope × 24 h. seen ±: the",
    "smallest change per 24 h this run could tell from its noise (2 standard errors, widened for samples that follow",
    "each other). flat: the slope's 95 % upper limit in the bad direction, × 24 h, is within the bound; NOT FLAT: its",
    "lower limit is past it; undecided: the noise covers both (run longer or on a quieter machine).",
    ...(run.backend === "PGlite" ? ["PostgreSQL connections: not sampled on PGlite (one embedded connection)."] : []),
    "",
    "Checks:",
    ...run.checks.map((c) => `  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`),
    ...(refusals.length > 0 ? ["", "Refused answers:", ...refusals.map(([w, n]) => `  ${w}: ${n}`)] : []),
    "",
    `chart: ${run.chartPath}`,
    `samples: ${run.csvPath}`,
  ].join("\n");
}

export const soakDrill: Drill = {
  summary:
    "run the system at half of its capacity for 30 minutes and prove memory, connections, loop delay and the outbox stay flat",
  usage: USAGE,
  async run(args, progress): Promise<DrillResult> {
    const options = parseSoakOptions(args);
    const run = await runSoak(options, progress);
    const refused = Object.values(run.refusals).reduce((a, b) => a + b, 0);
    const command = [
      "npm run drill -- soak",
      `--minutes ${options.seconds / 60}`,
      `--rate ${run.rate.toFixed(2)}`,
      `--payers ${options.payers}`,
      `--concurrency ${options.concurrency}`,
      ...(options.natsUrl ? [`--nats-url ${options.natsUrl}`] : []),
    ].join(" ");
    return {
      ok: run.series.every((s) => s.verdict.flat) && run.checks.every((c) => c.ok) && refused <= run.payments / 100,
      report: soakReport(run),
      command,
    };
  },
};
