/**
 * Builds the web app for production (Vite, about a second) into apps/web/dist, under the build lock. `npm start`
 * runs this file before it starts the web server; e2e/support/web-app.ts builds once per test run with it.
 */
import { fileURLToPath } from "node:url";
import { build } from "vite";
import { withBuildLock } from "./build-lock.ts";
import { DEFAULT_DIST_DIR } from "./config.ts";

const APP_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Builds apps/web into `DEFAULT_DIST_DIR`; `afterBuild` runs inside the lock (a stamp for the test runs). */
export async function buildWebApp(afterBuild?: () => Promise<void>): Promise<void> {
  await withBuildLock(DEFAULT_DIST_DIR, async () => {
    await build({ root: APP_ROOT, logLevel: "warn", build: { outDir: DEFAULT_DIST_DIR, emptyOutDir: true } });
    await afterBuild?.();
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
