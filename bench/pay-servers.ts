/**
 * The pay server as the benchmarks run it: a PaySystem in the bench process for setup (what no HTTP route does,
 * or what is not measured), and `processes` real pay-server processes (e2e/support/pay-process.ts) on the same
 * database and key file, with the rate limit out of the way and the background workers off.
 */
import { pathToFileURL, fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import pino from "pino";
import { loadConfig } from "../services/pay/src/config.ts";
import { queryRows } from "../services/pay/src/db/client.ts";
import { openPaySystem, type PaySystem } from "../services/pay/src/system.ts";
import { startPayProcess, type PayProcess } from "../e2e/support/pay-process.ts";
import type { ServiceProcess } from "../e2e/support/service-process.ts";
import type { BenchOptions } from "./scenario.ts";
import type { Cleanup } from "./cleanup.ts";

/** PostgreSQL allows 100 connections; the benchmark keeps its own total below this. */
const CONNECTION_BUDGET = 89;
/** Connections of the bench process's own PaySystem. */
const BENCH_POOL = 4;
const CPU_PROFILER = fileURLToPath(new URL("./cpu-profiler.ts", import.meta.url));
const EVENT_LOOP_PROBE = fileURLToPath(new URL("./event-loop-probe.ts", import.meta.url));
const HTTP_PROBE = fileURLToPath(new URL("./http-probe.ts", import.meta.url));
/** The request event-loop-probe.ts answers with `{ type, idle, active }` (cumulative milliseconds). */
const ELU_REQUEST = "mpay-bench-elu";
/** The request http-probe.ts answers with `{ type, routes }`: per route, the milliseconds of each request since the last. */
const HTTP_REQUEST = "mpay-bench-http";

/** Connections per pay-server process: one per client it serves, within the budget. */
export function poolPerProcess(options: Pick<BenchOptions, "clients" | "processes" | "pool">): number {
  const cap = Math.floor((CONNECTION_BUDGET - BENCH_POOL - 1) / options.processes);
  if (options.pool !== undefined) {
    if (options.pool > cap)
      throw new Error(
        `--pool ${options.pool} × ${options.processes} processes would pass ${CONNECTION_BUDGET} connections`,
      );
    return options.pool;
  }
  return Math.max(2, Math.min(cap, Math.ceil(options.clients / options.processes)));
}

/** The bench process's own PaySystem (workers off, a few connections), logging warnings to stderr. */
export function openSetupSystem(databaseUrl: string, dataDir: string): Promise<PaySystem> {
  return openPaySystem(
    {
      ...loadConfig({}),
      databaseUrl,
      dataDir,
      embeddedDatabaseDir: undefined,
      dbPoolSize: BENCH_POOL,
      workers: false,
      logLevel: "warn",
    },
    // Its warnings (the dev key file) go to stderr: stdout carries only the report.
    pino({ level: "warn" }, pino.destination(2)),
  );
}

/** Sessions of other databases on the PostgreSQL server (someone else's work on a shared server). */
export async function otherSessionsOf(system: PaySystem): Promise<Set<number>> {
  const rows = await queryRows<{ pid: number }>(
    system.database.db,
    sql`select pid from pg_stat_activity where backend_type = 'client backend' and datname is distinct from current_database()`,
  );
  return new Set(rows.map((r) => Number(r.pid)));
}

export interface PayServers {
  servers: PayProcess[];
  urls: string[];
  pids: number[];
  /** Whether they were started with the CPU profiler (--cpu-prof). */
  profiling: boolean;
  /** With --cpu-prof: the first call starts each server's profiler, the next writes the profile (cpu-profiler.ts). */
  toggleProfilers(): void;
  /** Each server's cumulative event-loop times (event-loop-probe.ts); `eventLoopBusy` reads two of them. */
  eventLoops(): Promise<EventLoopTimes[]>;
  /** Each server's requests' times since the last call (http-probe.ts). */
  httpTimes(): Promise<HttpTimes[]>;
}

export interface EventLoopTimes {
  idle: number;
  active: number;
}

/** Per server, the share of the time between two readings its event loop was busy (0..1). */
export function eventLoopBusy(before: EventLoopTimes[], after: EventLoopTimes[]): number[] {
  return after.map((b, i) => {
    const a = before[i] ?? { idle: 0, active: 0 };
    const active = b.active - a.active;
    const total = active + b.idle - a.idle;
    return total > 0 ? active / total : 0;
  });
}

/** Sends a probe's request to a process started with `benchPreloads` and waits for the answer of that type. */
function askProbe<T>(
  server: ServiceProcess,
  type: string,
  read: (message: Record<string, unknown>) => T | undefined,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      server.child.off("message", onMessage);
      reject(new Error(`${server.url} did not answer ${type}`));
    }, 5000);
    const onMessage = (message: Record<string, unknown>) => {
      const value = message?.["type"] === type ? read(message) : undefined;
      if (value === undefined) return;
      clearTimeout(timer);
      server.child.off("message", onMessage);
      resolve(value);
    };
    server.child.on("message", onMessage);
    server.child.send({ type });
  });
}

/** A process started with `benchPreloads`: its cumulative event-loop times. */
export function askEventLoop(server: ServiceProcess): Promise<EventLoopTimes> {
  return askProbe(server, ELU_REQUEST, ({ idle, active }) =>
    typeof idle === "number" && typeof active === "number" ? { idle, active } : undefined,
  );
}

/** Per route (`POST /v1/payer/approvals/:id/authorize`), the milliseconds a process spent on each 2xx request. */
export type HttpTimes = Record<string, number[]>;

/** A process started with `benchPreloads`: its requests' times since the last call (http-probe.ts). */
export function askHttpTimes(server: ServiceProcess): Promise<HttpTimes> {
  return askProbe(server, HTTP_REQUEST, ({ routes }) =>
    typeof routes === "object" && routes !== null ? (routes as HttpTimes) : undefined,
  );
}

export interface PayServerSettings {
  processes: number;
  dbPool: number;
  /** The database URL the servers connect to (the SQL trace proxy's, when tracing). */
  databaseUrl: string;
  dataDir: string;
  cpuProfileDir: string | undefined;
  /** More environment for the servers (e.g. a longer approval window). */
  env?: Record<string, string>;
}

/**
 * The environment that preloads the event-loop and HTTP probes into a service process the benchmark starts, and with
 * `cpuProfileDir` the CPU profiler (SIGUSR2 starts and stops it; see cpu-profiler.ts).
 */
export function benchPreloads(cpuProfileDir: string | undefined): Record<string, string> {
  // tsx first: the preloads are TypeScript.
  const preloads = ["tsx", pathToFileURL(EVENT_LOOP_PROBE).href, pathToFileURL(HTTP_PROBE).href];
  const env: Record<string, string> = {};
  if (cpuProfileDir) {
    preloads.push(pathToFileURL(CPU_PROFILER).href);
    env["MPAY_BENCH_CPU_PROF_DIR"] = cpuProfileDir;
  }
  env["NODE_OPTIONS"] = preloads.map((p) => `--import ${p}`).join(" ");
  return env;
}

/** Starts the pay-server processes, each stopped by `cleanup`; fails if any fails to start. */
export async function startPayServers(
  settings: PayServerSettings,
  cleanup: Cleanup,
  progress: (line: string) => void,
): Promise<PayServers> {
  const env: Record<string, string> = {
    DATABASE_URL: settings.databaseUrl,
    MPAY_DATA_DIR: settings.dataDir,
    LOG_LEVEL: "warn",
    MPAY_WORKERS: "off",
    MPAY_RATE_LIMIT_PER_MINUTE: "100000000",
    MPAY_DB_POOL: String(settings.dbPool),
    ...settings.env,
  };
  Object.assign(env, benchPreloads(settings.cpuProfileDir));
  progress(`starting ${settings.processes} pay-server process(es), ${settings.dbPool} database connections each`);
  const started = await Promise.allSettled(Array.from({ length: settings.processes }, () => startPayProcess(env)));
  const servers: PayProcess[] = [];
  for (const s of started) {
    if (s.status === "fulfilled") {
      servers.push(s.value);
      cleanup.add(`stop pay server ${s.value.url}`, () => s.value.stop());
    }
  }
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  const pids = servers.map((s) => s.child.pid).filter((pid): pid is number => pid !== undefined);
  return {
    servers,
    urls: servers.map((s) => s.url),
    pids,
    profiling: settings.cpuProfileDir !== undefined,
    toggleProfilers() {
      if (settings.cpuProfileDir) for (const pid of pids) process.kill(pid, "SIGUSR2");
    },
    eventLoops: () => Promise.all(servers.map(askEventLoop)),
    httpTimes: () => Promise.all(servers.map(askHttpTimes)),
  };
}
