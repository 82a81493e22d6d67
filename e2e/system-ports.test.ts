/**
 * One configuration model (issue 8): a port that browsers and fetch refuse is refused at start, naming the variable
 * and the reason, by npm start, by a service alone and by the demo. The other half, the three services on
 * non-default ports set by their port variables alone completing a payment, is e2e/first-payment-demo.test.ts
 * (one `npm start` serves both: it is the suite's slowest start).
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemo, runNpmStart } from "./support/npm-start.ts";
import { startPayProcess } from "./support/pay-process.ts";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mpay-e2e-ports-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a port that browsers and fetch refuse", () => {
  const reason =
    /browsers and fetch refuse to connect to it \(a "bad port" of the Fetch standard, kept for \w+: https:\/\/fetch\.spec\.whatwg\.org\/#port-blocking\); choose another port/;

  it("npm start refuses it before starting anything, in one line naming the variable and the reason", async () => {
    const run = await runNpmStart({
      MESSENGER_PORT: "6000",
      MPAY_DATA_DIR: join(dir, "refused"),
      MPAY_NETWORK_DIR: join(dir, "refused-network"),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/^npm start: MESSENGER_PORT: port 6000 cannot be used: /);
    expect(run.stderr).toMatch(reason);
    // Nothing was made: not even the demo network.
    expect((await readdir(dir)).filter((name) => name.startsWith("refused"))).toEqual([]);
  });

  it("a service started alone refuses it in one line", async () => {
    const started = startPayProcess({ PAY_PORT: "6665", MPAY_DATA_DIR: join(dir, "pay-refused") });
    await expect(started).rejects.toThrow(
      /exited with 1 before it was ready:\npay server failed to start: PAY_PORT: port 6665 cannot be used: .*kept for ircu/,
    );
  });

  it("npm run demo names it, instead of saying MPay is not running", async () => {
    const run = await runDemo({ PAY_PORT: "5060", MPAY_DEMO_DIR: join(dir, "demo-refused") });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/^npm run demo: PAY_PORT: port 5060 cannot be used: /);
    expect(run.stderr).toMatch(reason);
    expect(run.stderr).not.toMatch(/not running/);
  });
});
