/**
 * The web app for whole-system tests: built once per test run (test files run in parallel workers; the build lock
 * of apps/web/server/build-lock.ts makes the others wait, and a stamp with the run's id makes them skip), then
 * served by `npm start` with MPAY_WEB_BUILD=off (npm-start.ts), as a newcomer's `npm start` serves it. The build
 * runs as its own process, as npm start runs it: a production build whatever NODE_ENV the test runner set.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BUILD = fileURLToPath(new URL("../../apps/web/server/build.ts", import.meta.url));

/**
 * This test run: vitest's main process, the parent of every worker (pool "forks", vitest.config.ts). A test file
 * run on its own is a run of its own.
 */
const RUN = `vitest-${process.ppid}`;

let built: Promise<void> | undefined;

/** Builds apps/web unless this run already did. */
export function ensureWebAppBuilt(): Promise<void> {
  built ??= promisify(execFile)(process.execPath, ["--import", "tsx", BUILD, "--stamp", RUN], {
    cwd: ROOT,
    timeout: 300_000,
  }).then(() => undefined);
  return built;
}
