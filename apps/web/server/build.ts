/**
 * Builds the web app for production (Vite, about a second) into apps/web/dist, under the build lock. `npm start`
 * runs this file before it starts the web server; e2e/support/web-app.ts builds once per test run with it.
 */
import { fileURLToPath } from "node:url";
import { build } from "vite";
import { withBuildLock } from "./build-lock.ts";
import { DEFAULT_DIST_DIR } from "./config.ts";

const APP_ROOT = fileURLToPath(new URL("..", import.meta.url));

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
  buildWebApp().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`web: the build failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
