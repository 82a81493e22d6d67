/**
 * `npm start` and `npm run demo` as a newcomer runs them (node scripts/start.mjs; node --import tsx
 * scripts/demo.ts), as processes with only the environment a test gives them, for whole-system tests.
 */
import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
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
