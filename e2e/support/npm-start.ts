/**
 * `npm start` and `npm run demo` as a newcomer runs them (node scripts/start.mjs; node --import tsx
 * scripts/demo.ts), as processes with only the environment a test gives them, for whole-system tests.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePorts } from "./messenger-process.ts";
import { ensureWebAppBuilt } from "./web-app.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DEMO = fileURLToPath(new URL("../../scripts/demo.ts", import.meta.url));
const START = fileURLToPath(new URL("../../scripts/start.mjs", import.meta.url));

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>, timeoutMs: number): Promise<ProcessRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: ROOT, env: { PATH: process.env["PATH"] ?? "", ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

/** `npm run demo` to its end; `args` as after `npm run demo --` (`["checkout"]`). */
export function runDemo(env: Record<string, string>, timeoutMs = 240_000, args: string[] = []): Promise<ProcessRun> {
  return run(["--import", "tsx", DEMO, ...args], env, timeoutMs);
}

/** `npm start` that is expected to stop by itself (a configuration it refuses). */
export function runNpmStart(env: Record<string, string>, timeoutMs = 60_000): Promise<ProcessRun> {
  return run([START], env, timeoutMs);
}

export interface StartedSystem {
  output(): string;
  stop(): Promise<void>;
}

/**
 * `npm start`, resolved once it says MPay is running (without the demo shops unless `env` turns them on); `stop()` is Ctrl-C's SIGTERM and waits for the exit. The web
 * app is built once per test run (web-app.ts) and npm start serves that build (MPAY_WEB_BUILD=off).
 */
export async function npmStart(env: Record<string, string>, timeoutMs = 180_000): Promise<StartedSystem> {
  await ensureWebAppBuilt();
  const child = spawn(process.execPath, [START], {
    cwd: ROOT,
    // No demo shop unless the test visits one (MPAY_DEMO_SHOPS: "on"): two more processes on fixed ports would
    // collide between tests that run at once and slow every other test's start.
    env: { PATH: process.env["PATH"] ?? "", LOG_LEVEL: "warn", MPAY_WEB_BUILD: "off", MPAY_DEMO_SHOPS: "off", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => void stop().then(() => reject(new Error(`npm start was not running after ${timeoutMs} ms:\n${output}`))),
      timeoutMs,
    );
    child.stdout.on("data", () => {
      // The line after "MPay is running." lists the URLs: wait for it too.
      if (/MPay is running\..*\n.*messenger \S+\n/.test(output)) {
        clearTimeout(timer);
        resolve({ output: () => output, stop });
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`npm start exited before it was running:\n${output}`));
    });
  });
}

/** Where a test's `npm start` runs each service (loopback, free ports). */
export interface SystemUrls {
  pay: string;
  issuer: string;
  messenger: string;
  /** At `localhost` when the test asked for passkeys (browsers take no IP address as a relying party). */
  web: string;
}

export interface TestSystem {
  /** The test's temporary folder: pay/, issuer/, messenger/, demo/ and network/ are the services' data folders. */
  dir: string;
  /** The environment npm start ran with: `loadDemoConfig(env)` (scripts/demo) reads the same addresses and folders. */
  env: Record<string, string>;
  urls: SystemUrls;
  /** The two demo shops of examples/mall, when the test asked for them. */
  shops: { mall: string; teaHouse: string } | undefined;
  system: StartedSystem;
  /** Stops npm start and removes the folder. */
  stop(): Promise<void>;
}

export interface TestSystemOptions {
  /** `localhost` for a web app with passkeys; 127.0.0.1 (passkeys off) by default. */
  webHost?: "127.0.0.1" | "localhost";
  /** Demo Mall and Hanok Tea House beside the system (MPAY_DEMO_SHOPS=on), on free ports too. */
  demoShops?: boolean;
  /** More variables (ISSUER_IDS, MPAY_EXPIRY_INTERVAL_MS, …); the folder's paths are given as `(dir) => …`. */
  env?: (dir: string) => Record<string, string>;
  timeoutMs?: number;
}

/**
 * `npm start` for one browser test file: pay server, issuer host, messenger and web app on free ports, every data
 * folder under a fresh temporary folder named after the test (`name`), resolved once it says MPay is running.
 */
export async function startTestSystem(name: string, options: TestSystemOptions = {}): Promise<TestSystem> {
  const dir = await mkdtemp(join(tmpdir(), `mpay-e2e-${name}-`));
  try {
    const [pay, issuer, messenger, web, mall, teaHouse] = await freePorts(options.demoShops ? 6 : 4);
    const urls: SystemUrls = {
      pay: `http://127.0.0.1:${pay}`,
      issuer: `http://127.0.0.1:${issuer}`,
      messenger: `http://127.0.0.1:${messenger}`,
      web: `http://${options.webHost ?? "127.0.0.1"}:${web}`,
    };
    const shops = options.demoShops
      ? { mall: `http://127.0.0.1:${mall}`, teaHouse: `http://127.0.0.1:${teaHouse}` }
      : undefined;
    const env: Record<string, string> = {
      PAY_PORT: String(pay),
      ISSUER_PORT: String(issuer),
      MESSENGER_PORT: String(messenger),
      MPAY_WEB_URL: urls.web,
      MPAY_DATA_DIR: join(dir, "pay"),
      ISSUER_DATA_DIR: join(dir, "issuer"),
      MESSENGER_DATA_DIR: join(dir, "messenger"),
      MPAY_DEMO_DIR: join(dir, "demo"),
      MPAY_NETWORK_DIR: join(dir, "network"),
      ...(shops ? { MPAY_DEMO_SHOPS: "on", MALL_PORT: String(mall), TEA_HOUSE_PORT: String(teaHouse) } : {}),
      ...options.env?.(dir),
    };
    // Five processes (seven with the shops) start on two shared cores: patience, as for a newcomer's first npm start.
    const system = await npmStart(env, options.timeoutMs ?? 420_000);
    return {
      dir,
      env,
      urls,
      shops,
      system,
      async stop() {
        await system.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
