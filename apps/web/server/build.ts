/**
 * Builds the web app for production (Vite, about a second) into apps/web/dist, under the build lock. `npm start`
 * runs this file before it starts the web server; e2e/support/web-app.ts builds once per test run with it.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "vite";
import { withBuildLock } from "./build-lock.ts";
import { DEFAULT_DIST_DIR } from "./config.ts";

const APP_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Which test run built apps/web/dist last (gitignored). */
const STAMP_FILE = fileURLToPath(new URL("../.build-run", import.meta.url));

export interface BuildOptions {
  /** Asked inside the lock: true skips the build (the e2e tests' "already built in this run"). */
  upToDate?: () => Promise<boolean>;
  /** Runs inside the lock after a build (the e2e tests' stamp). */
  built?: () => Promise<void>;
}

/** Builds apps/web into `DEFAULT_DIST_DIR`; answers whether it built. */
export async function buildWebApp(options: BuildOptions = {}): Promise<boolean> {
  return withBuildLock(DEFAULT_DIST_DIR, async () => {
    if (await options.upToDate?.()) return false;
    await build({ root: APP_ROOT, logLevel: "warn", build: { outDir: DEFAULT_DIST_DIR, emptyOutDir: true } });
    await options.built?.();
    return true;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // Vite follows NODE_ENV over its mode: a shell's or a test runner's "development"/"test" would bundle React's
  // development build. What is served is always the production build.
  process.env["NODE_ENV"] = "production";
  // `--stamp <id>` (e2e/support/web-app.ts): skip when the last build was stamped with this id, stamp after one.
  const stampAt = process.argv.indexOf("--stamp");
  const stamp = stampAt > 0 ? process.argv[stampAt + 1] : undefined;
  const options: BuildOptions = stamp
    ? {
        upToDate: async () => (await readFile(STAMP_FILE, "utf8").catch(() => "")) === stamp,
        built: () => writeFile(STAMP_FILE, stamp),
      }
    : {};
  buildWebApp(options).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`web: the build failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
