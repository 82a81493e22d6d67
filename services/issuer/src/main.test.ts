/**
 * `src/main.ts` as `npm start` runs it: a child process that prints its URL and issuers, reports readiness over
 * IPC, makes the acquirer secret and operator token privately in its data folder (saying where, never what), and
 * exits cleanly on SIGTERM.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, testBackends, type FreshDatabase } from "@mpay/service-kit/testing";
import { fixtureIssuerEnv } from "./testing/fixtures.ts";

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
    env: { PATH: process.env["PATH"] ?? "", ISSUER_PORT: "0", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = new Promise<{ url: string }>((resolve, reject) => {
    child.once("message", (message) => resolve(message as { url: string }));
    void exit.then((code) => reject(new Error(`exited with ${code} before ready:\n${output}`)));
  });
  // A run that is expected to fail never becomes ready; that is no unhandled rejection.
  ready.catch(() => {});
  return { child, output: () => output, ready, exit };
}

describe.each(testBackends())("issuer host process [%s]", (backend) => {
  let dir: string;
  let database: FreshDatabase;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "issuer-main-"));
    database = await freshDatabase(backend, "issuer_test");
  });
  afterAll(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("starts, prints its issuers, keeps its secrets private, and shuts down on SIGTERM", async () => {
    const run = start({
      ISSUER_DATA_DIR: dir,
      ...fixtureIssuerEnv(["sampo", "handae"]),
      ...(database.url ? { ISSUER_DATABASE_URL: database.url } : {}),
    });
    const { url } = await run.ready;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(run.output()).toContain(`MPay issuer host listening on ${url}`);
    expect(run.output()).toContain("sampo    Sampo Card · BINs 411100-411199, 511100-511199, 941100-941199");
    expect(run.output()).toContain("handae   Handae Card");

    for (const [name, field] of [
      ["acquirer.json", "secret"],
      ["operator.json", "token"],
    ] as const) {
      const file = join(dir, name);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const value = (JSON.parse(await readFile(file, "utf8")) as Record<string, string>)[field]!;
      expect(value.length).toBeGreaterThanOrEqual(43);
      expect(run.output()).toContain(file);
      expect(run.output()).not.toContain(value);
    }
    const secret = (JSON.parse(await readFile(join(dir, "acquirer.json"), "utf8")) as { secret: string }).secret;
    const inquiry = await fetch(`${url}/issuers/sampo/authorizations/pay_none`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(inquiry.status).toBe(404);
    expect(((await (await fetch(`${url}/readyz`)).json()) as { status: string }).status).toBe("ready");

    run.child.kill("SIGTERM");
    expect(await run.exit).toBe(0);
  });

  it("commits a decision before answering: killed between the two, it has the decision after a restart", async () => {
    const secret = "k".repeat(43);
    const env = {
      ISSUER_DATA_DIR: dir,
      ...fixtureIssuerEnv(["sampo"]),
      ISSUER_ACQUIRER_SECRET: secret,
      ...(database.url ? { ISSUER_DATABASE_URL: database.url } : {}),
    };
    const doomed = start({ ...env, ISSUER_TEST_KILL_AFTER_COMMIT: "on" });
    const { url } = await doomed.ready;
    const request = {
      paymentId: "pay_crash",
      merchantId: "mch_demo",
      merchantName: "Demo Mall",
      amount: 35_000,
      currency: "KRW",
      captureMethod: "manual",
      cardRef: "icr_00000000000000000000000000",
      payment: "a.b.c.d.e",
      authentication: { method: "pin", statement: "x" },
    };
    const headers = { authorization: `Bearer ${secret}`, "content-type": "application/json" };
    await expect(
      fetch(`${url}/issuers/sampo/authorizations`, { method: "POST", headers, body: JSON.stringify(request) }),
    ).rejects.toThrow();
    expect(await doomed.exit).toBeNull();

    const restarted = start(env);
    const again = await restarted.ready;
    const inquiry = await fetch(`${again.url}/issuers/sampo/authorizations/pay_crash`, { headers });
    expect(await inquiry.json()).toMatchObject({
      paymentId: "pay_crash",
      status: "declined",
      decision: { declineCode: "card_not_found" },
    });
    restarted.child.kill("SIGTERM");
    expect(await restarted.exit).toBe(0);
  });

  it("says in one line why it cannot start: no roots, no certificate, or a certificate its roots did not sign", async () => {
    // Nothing configured: no default reaches for the committed fixtures; the data folder has nothing yet.
    const bare = start({ ISSUER_DATA_DIR: join(dir, "bare") });
    expect(await bare.exit).toBe(1);
    expect(bare.output()).toMatch(
      /^issuer host failed to start: cannot read the network roots at .*bare\/network-roots\.json .*npm start.*\n$/,
    );

    const roots = join(dir, "other-roots.json");
    const { publicKey } = await generateKeyPair("ES256", { extractable: true });
    const { x, y } = await exportJWK(publicKey);
    await writeFile(
      roots,
      JSON.stringify([{ kid: "another-network", name: "Another Network", jwk: { kty: "EC", crv: "P-256", x, y } }]),
    );
    const missing = start({ ISSUER_DATA_DIR: dir, ISSUER_NETWORK_ROOTS_FILE: roots, ISSUER_IDS: "nosuch" });
    expect(await missing.exit).toBe(1);
    expect(missing.output()).toMatch(
      /^issuer host failed to start: cannot read the issuer certificate at .*nosuch\/keys\/certificate\.jws\n$/,
    );

    const foreign = start({ ISSUER_DATA_DIR: dir, ...fixtureIssuerEnv(["sampo"]), ISSUER_NETWORK_ROOTS_FILE: roots });
    expect(await foreign.exit).toBe(1);
    expect(foreign.output()).toMatch(
      /^issuer host failed to start: the certificate of sampo at .*fixtures\/issuers\/sampo\/certificate\.jws is not signed by a root in .*other-roots\.json.*\n$/,
    );
  });
});
