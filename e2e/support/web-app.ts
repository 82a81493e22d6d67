/**
 * The web app for whole-system tests: built once per test run (test files run in parallel workers; the build lock
 * of apps/web/server/build-lock.ts makes the others wait, and a stamp with the run's id makes them skip), then
 * served by `npm start` with MPAY_WEB_BUILD=off (npm-start.ts), as a newcomer's `npm start` serves it.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { buildWebApp } from "../../apps/web/server/build.ts";

const STAMP = fileURLToPath(new URL("../../apps/web/.build-run", import.meta.url));

/**
 * This test run: vitest's main process, the parent of every worker (pool "forks", vitest.config.ts). A test file
 * run on its own is a run of its own.
 */
const RUN = `vitest ${process.ppid}`;

let built: Promise<boolean> | undefined;

/** Builds apps/web unless this run already did; answers whether this call built it. */
export function ensureWebAppBuilt(): Promise<boolean> {
  built ??= buildWebApp({
    upToDate: async () => (await readFile(STAMP, "utf8").catch(() => "")) === RUN,
    built: () => writeFile(STAMP, RUN),
  });
  return built;
}
