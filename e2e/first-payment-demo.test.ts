/**
 * `npm run demo` (issue 4, deliverable 8) against the three services as real processes, configured the way a
 * newcomer would configure `npm start` with other ports and data folders: one set of environment variables for
 * every process and for the demo. PGlite only: the demo merchant is made on the embedded default's first start.
 * The demo runs as a child process, twice (a new payer and device each time), and must tell the whole story
 * without printing a secret; before the services start it must fail with one line that says to run npm start.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startIssuerProcess, type IssuerProcess } from "./support/issuer-process.ts";
import { freePorts, startMessengerProcess, type MessengerProcess } from "./support/messenger-process.ts";
import { startPayProcess, type PayProcess } from "./support/pay-process.ts";
import { certifyPayStatementKey } from "./support/statement-key.ts";
import { fixtureIssuerEnv } from "../services/issuer/src/testing/fixtures.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEMO = join(ROOT, "scripts/demo.ts");

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(env: Record<string, string>): Promise<DemoRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", DEMO], { cwd: ROOT, env: { PATH: process.env["PATH"] ?? "", ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mpay-e2e-demo-"));
  const [payPort, issuerPort, messengerPort] = (await freePorts(3)) as [number, number, number];
  const payUrl = `http://127.0.0.1:${payPort}`;
  // What `npm start` needs to run on other ports and folders; the demo reads the same variables.
  env = {
    PAY_PORT: String(payPort),
    ISSUER_PORT: String(issuerPort),
    MESSENGER_PORT: String(messengerPort),
    MPAY_DATA_DIR: join(dir, "pay"),
    ISSUER_DATA_DIR: join(dir, "issuer"),
    MESSENGER_DATA_DIR: join(dir, "messenger"),
    MPAY_DEMO_DIR: join(dir, "demo"),
    MPAY_MESSENGER_ISSUER: `http://127.0.0.1:${messengerPort}`,
    MPAY_MESSENGER_CLIENT_FILE: join(dir, "messenger", "pay-client.json"),
    MPAY_ISSUER_URL: `http://127.0.0.1:${issuerPort}`,
    MPAY_ISSUER_ACQUIRER_FILE: join(dir, "issuer", "acquirer.json"),
    MESSENGER_PAY_REDIRECT_URIS: `${payUrl}/v1/payer/auth/callback`,
    // One card company is enough here (and starts faster); the demo picks its cards among the running issuers.
    ...fixtureIssuerEnv(["kstar"]),
  };
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("npm run demo before npm start", () => {
  it("fails with one line that says to start the system", async () => {
    const run = await runDemo(env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/MPay is not running .*start it with npm start/);
  });
});

describe("npm run demo against the pay server, issuer host and messenger as processes [pglite]", () => {
  let pay: PayProcess;
  let issuer: IssuerProcess;
  let messenger: MessengerProcess;

  beforeAll(async () => {
    // The pay server reads the files the messenger and the issuer host write on their first start.
    [messenger, issuer] = await Promise.all([startMessengerProcess(env), startIssuerProcess(env)]);
    await certifyPayStatementKey(env);
    pay = await startPayProcess(env);
  });

  afterAll(async () => {
    await Promise.allSettled([pay?.stop(), issuer?.stop(), messenger?.stop()]);
  });

  it("signs in, binds a device, sets a PIN, enrolls a card, pays, captures and refunds, twice, printing no secret", { timeout: 300_000 }, async () => {
    const first = await runDemo(env);
    expect(first.code, first.stderr).toBe(0);
    const second = await runDemo(env);
    expect(second.code, second.stderr).toBe(0);

    for (const { stdout } of [first, second]) {
      // The payment's states, as GET /v1/payments/:id answered after each step, in order.
      const states = [...stdout.matchAll(/→ status (\w+):/g)].map((match) => match[1]);
      expect(states).toEqual(["requires_approval", "authorized", "captured", "captured"]);
      expect(stdout).toMatch(/Done\. Payment pay_\w+: requires_approval → authorized → captured, 5,000 KRW refunded, 30,000 KRW kept\./);
      expect(stdout).toMatch(/refund re_\w+ of 5,000 KRW succeeded/);
      expect(stdout).toContain("captured 35,000 KRW of 35,000 KRW, refunded 5,000 KRW");
      // The ledger and the issuer's view of the card.
      expect(stdout).toMatch(/merchant_payable\s+−30,000 KRW/);
      expect(stdout).toMatch(/The issuer's view of the card \(KStar Card back office/);
      expect(stdout).toMatch(/books\s+balanced: credit used 30,000 KRW = held 0 KRW \+ captured 35,000 KRW − refunded 5,000 KRW/);
      expect(stdout).toMatch(/devices bound\s+1, this device's key among them: yes/);
    }
    // Two runs, two payers on two devices, taking turns with the test cards; the merchant's ledger adds up.
    expect(first.stdout).toMatch(/visa •••• 0012/);
    expect(second.stdout).toMatch(/mastercard •••• 0027/);
    expect(second.stdout).toMatch(/merchant_payable\s+−30,000 KRW\s+−60,000 KRW/);
    expect(await readdir(join(dir, "demo", "devices"))).toHaveLength(2);

    // Nothing secret: the merchant's keys, the back office's token, a session token, a password, a full card
    // number, and no six-digit number standing alone (the PIN, a one-time code).
    const merchantKeys = JSON.parse(await readFile(join(dir, "pay", "demo-merchant.json"), "utf8")) as { secretKey: string; webhookSecret: string };
    const operator = JSON.parse(await readFile(join(dir, "issuer", "operator.json"), "utf8")) as { token: string };
    const output = [first, second].map((run) => run.stdout + run.stderr).join("\n");
    for (const secret of [merchantKeys.secretKey, merchantKeys.webhookSecret, operator.token, "sk_test_", "pst_"]) expect(output).not.toContain(secret);
    expect(output).not.toMatch(/demo-[0-9a-f]{8}-[0-9a-f]{4}/);
    expect(output).not.toMatch(/\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}/);
    expect(output).not.toMatch(/(?<![\w+])\d{6}(?!\w)/);
  });
});
