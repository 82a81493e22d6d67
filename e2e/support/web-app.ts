/**
 * The web app for whole-system tests: built once per test run (test files run in parallel workers; the build lock
 * of apps/web/server/build-lock.ts makes the others wait, and a stamp with the run's id makes them skip), then
 * served by `npm start` with MPAY_WEB_BUILD=off (npm-start.ts), as a newcomer's `npm start` serves it, or by the
 * web server in the test's own process (`serveWebApp`) beside the test's own pay server or messenger. The build
 * runs as its own process, as npm start runs it: a production build whatever NODE_ENV the test runner set.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DEFAULT_DIST_DIR, messengerSocketUrl } from "../../apps/web/server/config.ts";
import { startWebServer } from "../../apps/web/server/server.ts";

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

/** Nothing listens on the discard port: a service the test does not run. */
const NOWHERE = "http://127.0.0.1:9";

export interface ServedWebApp {
  url: string;
  stop(): Promise<void>;
}

/**
 * This run's build served on `port` by the web app's own server (apps/web/server), at `http://<host>:<port>`
 * (`localhost` where the page needs passkeys), telling the app where the pay server and the messenger are (nowhere
 * unless given). The wallet's trusted roots are a fresh root of no network: the server starts with none.
 */
export async function serveWebApp(options: {
  port: number;
  host?: "127.0.0.1" | "localhost";
  payUrl?: string;
  messengerUrl?: string;
}): Promise<ServedWebApp> {
  const built = ensureWebAppBuilt();
  const dir = await mkdtemp(join(tmpdir(), "mpay-e2e-web-"));
  try {
    const { publicKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
    const { x, y } = await crypto.subtle.exportKey("jwk", publicKey);
    const trustedRootsFile = join(dir, "roots.json");
    await writeFile(
      trustedRootsFile,
      JSON.stringify([{ kid: "e2e-root", jwk: { kty: "EC", crv: "P-256", x, y }, name: "Test network" }]),
    );
    await built;
    const messengerUrl = options.messengerUrl ?? NOWHERE;
    const webUrl = `http://${options.host ?? "127.0.0.1"}:${options.port}`;
    const server = await startWebServer({
      host: "127.0.0.1",
      port: options.port,
      distDir: DEFAULT_DIST_DIR,
      trustedRootsFile,
      webUrl,
      payUrl: options.payUrl ?? NOWHERE,
      messengerUrl,
      messengerWsUrl: messengerSocketUrl(messengerUrl),
    });
    return {
      url: webUrl,
      async stop() {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
