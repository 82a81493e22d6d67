/**
 * `src/main.ts` as `npm start` runs it: a child process that prints its URL, reports readiness over IPC, makes the
 * pay client's secret in the embedded default, refuses to guess one on PostgreSQL, and exits cleanly on SIGTERM.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, testBackends, type FreshDatabase } from "./testing/databases.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

function start(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  ready: Promise<{ url: string }>;
  exit: Promise<number | null>;
} {
  let output = "";
  const child = fork(MAIN, [], {
    execArgv: ["--import", "tsx"],
    env: { PATH: process.env["PATH"] ?? "", MESSENGER_PORT: "0", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = new Promise<{ url: string }>((resolve, reject) => {
    child.once("message", (message) => resolve(message as { url: string }));
    void exit.then((code) => reject(new Error(`exited with ${code} before ready:\n${output}`)));
  });
  return { child, output: () => output, ready, exit };
}

describe.each(testBackends())("messenger process [%s]", (backend) => {
  let dir: string;
  let database: FreshDatabase;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "messenger-main-"));
    database = await freshDatabase(backend);
  });
  afterAll(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("starts, prints its URL, serves discovery, and shuts down on SIGTERM", async () => {
    const secret = "s".repeat(43);
    const env: Record<string, string> = {
      MESSENGER_DATA_DIR: dir,
      ...(database.url ? { MESSENGER_DATABASE_URL: database.url, MESSENGER_PAY_CLIENT_SECRET: secret } : {}),
    };
    const run = start(env);
    const { url } = await run.ready;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(run.output()).toContain(`MPay messenger listening on ${url}`);
    expect(run.output()).toContain(`${url}/.well-known/openid-configuration`);
    const discovery = (await (await fetch(`${url}/.well-known/openid-configuration`)).json()) as { issuer: string };
    expect(discovery.issuer).toBe(url);

    if (backend === "pglite") {
      // The embedded default made the pay client's secret, saved it privately, and said where (not what) it is.
      const file = join(dir, "pay-client.json");
      expect(run.output()).toContain(`secret in ${file}`);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const saved = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
      expect(saved).toMatchObject({
        client_id: "mpay-pay",
        redirect_uris: ["http://127.0.0.1:4000/v1/payer/auth/callback"],
        token_endpoint_auth_method: "client_secret_basic",
      });
      expect(run.output()).not.toContain(String(saved["client_secret"]));
    } else {
      expect(run.output()).not.toContain(secret);
    }

    run.child.kill("SIGTERM");
    expect(await run.exit).toBe(0);
  });
});

// Only where PostgreSQL is available (defined, not skipped, so that no run reports a skipped test).
if (testBackends().includes("postgres")) {
  describe("messenger process without a pay client secret [postgres]", () => {
    it("refuses to start on PostgreSQL without a configured pay client secret", async () => {
      const dir = await mkdtemp(join(tmpdir(), "messenger-main-"));
      const database = await freshDatabase("postgres");
      try {
        const run = start({ MESSENGER_DATA_DIR: dir, MESSENGER_DATABASE_URL: database.url ?? "" });
        await expect(run.ready).rejects.toThrow(/MESSENGER_PAY_CLIENT_SECRET must be set/);
        expect(await run.exit).not.toBe(0);
      } finally {
        await database.drop();
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
