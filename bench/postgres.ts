/** The PostgreSQL side of the benchmarks: throw-away databases, the server's version, and the pgbench baseline. */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test";

/** BENCH_DATABASE_URL, else DATABASE_URL, else the local test server. Any database on the server will do. */
export function serverUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env["BENCH_DATABASE_URL"] || env["DATABASE_URL"] || DEFAULT_DATABASE_URL;
}

export interface ScratchDatabase {
  name: string;
  url: string;
  /** Drops it (terminating leftover sessions); safe to call twice. */
  drop(): Promise<void>;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function randomSuffix(): string {
  return randomBytes(5).toString("hex");
}

/** CREATE DATABASE <name> on the server of `adminUrl`; the name must be a plain lower-case identifier. */
export async function createScratchDatabase(adminUrl: string, name: string): Promise<ScratchDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  await withClient(adminUrl, (c) => c.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | null = null;
  return {
    name,
    url: url.toString(),
    drop() {
      dropped ??= withClient(adminUrl, async (c) => {
        await c.query(`drop database if exists ${name} with (force)`);
      });
      return dropped;
    },
  };
}

export async function serverVersion(url: string): Promise<string> {
  return withClient(url, async (c) => {
    const result = await c.query<{ server_version: string }>("show server_version");
    return result.rows[0]?.server_version ?? "unknown";
  });
}

export interface PgbenchResult {
  tps: number;
  latencyAverageMs: number | null;
  transactions: number | null;
  clients: number;
  threads: number;
  seconds: number;
  scale: number;
}

/** libpq's environment for a URL, so pgbench needs no connection-string support of its own. */
function libpqEnv(url: string): Record<string, string> {
  const u = new URL(url);
  const env: Record<string, string> = {
    PGHOST: u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    PGPORT: u.port || "5432",
    PGDATABASE: decodeURIComponent(u.pathname.slice(1)),
  };
  if (u.username) env["PGUSER"] = decodeURIComponent(u.username);
  if (u.password) env["PGPASSWORD"] = decodeURIComponent(u.password);
  const sslmode = u.searchParams.get("sslmode");
  if (sslmode) env["PGSSLMODE"] = sslmode;
  return env;
}

export function pgbenchPath(env: NodeJS.ProcessEnv = process.env): string {
  return env["PGBENCH"] || "pgbench";
}

function runTool(command: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", (error) =>
      reject(new Error(`cannot run ${command}: ${error.message} (set PGBENCH to its path)`)),
    );
    child.once("exit", (code, signal) => {
      if (code === 0) resolve(output);
      else
        reject(new Error(`${command} ${args.join(" ")} failed (${signal ?? `exit ${code}`}):\n${output.slice(-2000)}`));
    });
  });
}

/** Parses the summary pgbench prints at the end of a run. */
export function parsePgbenchOutput(output: string): {
  tps: number;
  latencyAverageMs: number | null;
  transactions: number | null;
} {
  const tps = /tps = ([0-9.]+) \(without initial connection time\)/.exec(output);
  if (!tps?.[1])
    throw new Error(`pgbench printed no "tps = … (without initial connection time)" line:\n${output.slice(-2000)}`);
  const latency = /latency average = ([0-9.]+) ms/.exec(output);
  const processed = /number of transactions actually processed: ([0-9]+)/.exec(output);
  return {
    tps: Number(tps[1]),
    latencyAverageMs: latency?.[1] ? Number(latency[1]) : null,
    transactions: processed?.[1] ? Number(processed[1]) : null,
  };
}

/** `pgbench -i -s <scale> -q`, then the default TPC-B-like script with prepared statements. */
export async function runPgbench(
  url: string,
  options: { clients: number; seconds: number; scale?: number },
  progress: (line: string) => void,
): Promise<PgbenchResult> {
  const scale = options.scale ?? 10;
  const threads = Math.max(1, Math.min(2, options.clients));
  const env = libpqEnv(url);
  const bin = pgbenchPath();
  progress(`pgbench: initializing scale ${scale}`);
  await runTool(bin, ["-i", "-s", String(scale), "-q"], env);
  progress(`pgbench: ${options.clients} clients, ${threads} threads, ${options.seconds} s, -M prepared`);
  const output = await runTool(
    bin,
    ["-c", String(options.clients), "-j", String(threads), "-T", String(options.seconds), "-M", "prepared"],
    env,
  );
  return { ...parsePgbenchOutput(output), clients: options.clients, threads, seconds: options.seconds, scale };
}
