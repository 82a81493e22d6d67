/**
 * One configuration model (issue 8): the three services started as `npm start` starts them, on ports that are not
 * the defaults, with nothing set but their ports and data folders: no URL, no redirect URI, no secret file. Every
 * process derives every other's URL from the same variables (service-kit's systemAddresses), so the payer signs in
 * at the messenger on MESSENGER_PORT, is sent back to the pay server on PAY_PORT, and pays at the issuer on
 * ISSUER_PORT: `npm run demo` completes a payment against them. And a port that browsers and fetch refuse is
 * refused at start, naming the variable and the reason, by npm start, by a service alone and by the demo.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "./support/messenger-process.ts";
import { npmStart, runDemo, runNpmStart, type StartedSystem } from "./support/npm-start.ts";
import { startPayProcess } from "./support/pay-process.ts";

const DEFAULT_PORTS = [4000, 4100, 4200, 4300];

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mpay-e2e-ports-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the three services on other ports, set by their port variables alone [pglite]", () => {
  let system: StartedSystem | undefined;
  let env: Record<string, string>;
  let ports: { pay: number; issuer: number; messenger: number };

  beforeAll(async () => {
    const [pay, issuer, messenger] = (await freePorts(3)) as [number, number, number];
    ports = { pay, issuer, messenger };
    expect(Object.values(ports).some((port) => DEFAULT_PORTS.includes(port))).toBe(false);
    env = {
      PAY_PORT: String(pay),
      ISSUER_PORT: String(issuer),
      MESSENGER_PORT: String(messenger),
      MPAY_DATA_DIR: join(dir, "pay"),
      ISSUER_DATA_DIR: join(dir, "issuer"),
      MESSENGER_DATA_DIR: join(dir, "messenger"),
      MPAY_NETWORK_DIR: join(dir, "network"),
      MPAY_DEMO_DIR: join(dir, "demo"),
      // One card company starts faster; the demo picks its card among the running issuers.
      ISSUER_IDS: "kstar",
    };
    // Three services and the demo network on a shared 2-core machine: starting can take minutes.
    system = await npmStart(env, 540_000);
  }, 600_000);

  afterAll(async () => {
    await system?.stop();
  });

  it("each listens on its port and names the others where they are", () => {
    const output = system!.output();
    expect(output).toContain(`MPay pay server listening on http://127.0.0.1:${ports.pay} `);
    expect(output).toContain(`MPay issuer host listening on http://127.0.0.1:${ports.issuer} `);
    expect(output).toContain(`MPay messenger listening on http://127.0.0.1:${ports.messenger} `);
    // The messenger is the OpenID Connect issuer at its own port, and sends payers back to the pay server's.
    expect(output).toContain(`OpenID Connect issuer http://127.0.0.1:${ports.messenger} `);
    expect(output).toContain(`→ http://127.0.0.1:${ports.pay}/v1/payer/auth/callback`);
    expect(output).toContain(
      `pay server http://127.0.0.1:${ports.pay}  ·  issuer host http://127.0.0.1:${ports.issuer}  ·  messenger http://127.0.0.1:${ports.messenger}`,
    );
  });

  it("completes a payment: sign-in at the messenger, back to the pay server, authorization at the issuer, capture and refund", {
    timeout: 600_000,
  }, async () => {
    const run = await runDemo(env, 580_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      `pay server http://127.0.0.1:${ports.pay} · issuer host http://127.0.0.1:${ports.issuer} (kstar) · messenger http://127.0.0.1:${ports.messenger}`,
    );
    expect(run.stdout).toMatch(
      /Done\. Payment pay_\w+: requires_approval → authorized → captured, 5,000 KRW refunded, 30,000 KRW kept\./,
    );
    // The pay server read the messenger's client secret from the messenger's data folder: none was set.
    expect(await readdir(join(dir, "messenger"))).toContain("pay-client.json");
  });
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
