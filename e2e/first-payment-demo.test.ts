/**
 * `npm run demo` (issue 4, deliverable 8) against `npm start` itself (scripts/start.mjs as a process), configured
 * the way a newcomer would run it with other ports and data folders: one set of environment variables for npm
 * start and for the demo. PGlite only: the demo merchant is made on the embedded default's first start. npm start
 * first makes this machine's demo card network (issue 7, hole 2): its root, made once, certifies the demo issuers
 * and the pay server's PIN-statement key, and is the only root the demo wallets and the issuer host trust. The
 * demo runs as a child process twice, with a restart of npm start between (the network is kept, not made again),
 * and must tell the whole story without printing a secret; before npm start it must fail with one line.
 */
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyIssuerCertificate, type NetworkRoot } from "@mpay/crypto";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { freePorts } from "./support/messenger-process.ts";
import { npmStart, runDemo, type StartedSystem } from "./support/npm-start.ts";

let dir: string;
let env: Record<string, string>;
let ports: { pay: number; issuer: number; messenger: number; web: number };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mpay-e2e-demo-"));
  const [payPort, issuerPort, messengerPort, webPort] = (await freePorts(4)) as [number, number, number, number];
  ports = { pay: payPort, issuer: issuerPort, messenger: messengerPort, web: webPort };
  expect(Object.values(ports).some((port) => [4000, 4100, 4200, 4300].includes(port))).toBe(false);
  // Only ports and data folders, as a newcomer moves the system (issue 8, one configuration model): no URL, no
  // redirect URI, no secret file. Every process derives the others' URLs from the same variables (service-kit's
  // systemAddresses); the demo reads the same ones.
  env = {
    PAY_PORT: String(payPort),
    ISSUER_PORT: String(issuerPort),
    MESSENGER_PORT: String(messengerPort),
    // The web app listens on its URL's port, and the pay server and the messenger answer CORS for that origin.
    MPAY_WEB_URL: `http://127.0.0.1:${webPort}`,
    MPAY_DATA_DIR: join(dir, "pay"),
    ISSUER_DATA_DIR: join(dir, "issuer"),
    MESSENGER_DATA_DIR: join(dir, "messenger"),
    MPAY_DEMO_DIR: join(dir, "demo"),
    // One card company is enough here (and starts faster); the demo picks its cards among the running issuers.
    ISSUER_IDS: "kstar",
    MPAY_NETWORK_DIR: join(dir, "network"),
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

describe("npm run demo against npm start (scripts/start.mjs: the demo network, then the three services) [pglite]", () => {
  let system: StartedSystem | undefined;
  let firstStart = "";

  beforeAll(async () => {
    system = await npmStart(env);
    firstStart = system.output();
  });

  afterAll(async () => {
    await system?.stop();
  });

  it("runs each service on its port, set by the port variables alone, and each names the others where they are", () => {
    expect(firstStart).toContain(`MPay pay server listening on http://127.0.0.1:${ports.pay} `);
    expect(firstStart).toContain(`MPay issuer host listening on http://127.0.0.1:${ports.issuer} `);
    expect(firstStart).toContain(`MPay messenger listening on http://127.0.0.1:${ports.messenger} `);
    // The messenger is the OpenID Connect issuer at its own port, and sends payers back to the pay server's.
    expect(firstStart).toContain(`OpenID Connect issuer http://127.0.0.1:${ports.messenger} `);
    expect(firstStart).toContain(`→ http://127.0.0.1:${ports.pay}/v1/payer/auth/callback`);
    expect(firstStart).toContain(
      `pay server http://127.0.0.1:${ports.pay}  ·  issuer host http://127.0.0.1:${ports.issuer}  ·  messenger http://127.0.0.1:${ports.messenger}`,
    );
  });

  it("signs in, binds a device, sets a PIN, enrolls a card, pays, captures and refunds, twice, printing no secret", {
    timeout: 420_000,
  }, async () => {
    const first = await runDemo(env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(
      `pay server http://127.0.0.1:${ports.pay} · issuer host http://127.0.0.1:${ports.issuer} (kstar) · messenger http://127.0.0.1:${ports.messenger}`,
    );
    // The pay server read the messenger's client secret from the messenger's data folder: none was set.
    expect(await readdir(join(dir, "messenger"))).toContain("pay-client.json");
    // A second npm start keeps this machine's demo network as it is (made once), and the demo runs again.
    const rootKey = await readFile(join(dir, "network", "demo-root.private.jwk.json"), "utf8");
    await system!.stop();
    system = await npmStart(env);
    expect(system.output()).toMatch(/network: demo network root [\w-]{43} \(/);
    expect(system.output()).not.toMatch(/network: (made|certified)/);
    expect(await readFile(join(dir, "network", "demo-root.private.jwk.json"), "utf8")).toBe(rootKey);
    const second = await runDemo(env);
    expect(second.code, second.stderr).toBe(0);

    for (const { stdout } of [first, second]) {
      // The payment's states, as GET /v1/payments/:id answered after each step, in order.
      const states = [...stdout.matchAll(/→ status (\w+):/g)].map((match) => match[1]);
      expect(states).toEqual(["requires_approval", "authorized", "captured", "captured"]);
      expect(stdout).toMatch(
        /Done\. Payment pay_\w+: requires_approval → authorized → captured, 5,000 KRW refunded, 30,000 KRW kept\./,
      );
      expect(stdout).toMatch(/refund re_\w+ of 5,000 KRW succeeded/);
      expect(stdout).toContain("captured 35,000 KRW of 35,000 KRW, refunded 5,000 KRW");
      // The ledger and the issuer's view of the card.
      expect(stdout).toMatch(/merchant_payable\s+−30,000 KRW/);
      expect(stdout).toMatch(/The issuer's view of the card \(KStar Card back office/);
      expect(stdout).toMatch(
        /books\s+balanced: credit used 30,000 KRW = held 0 KRW \+ captured 35,000 KRW − refunded 5,000 KRW/,
      );
      expect(stdout).toMatch(/devices bound\s+1, this device's key among them: yes/);
    }
    // Two runs, two payers on two devices, taking turns with the test cards; the merchant's ledger adds up.
    expect(first.stdout).toMatch(/visa •••• 0012/);
    expect(second.stdout).toMatch(/mastercard •••• 0027/);
    expect(second.stdout).toMatch(/merchant_payable\s+−30,000 KRW\s+−60,000 KRW/);
    expect(await readdir(join(dir, "demo", "devices"))).toHaveLength(2);

    // Nothing secret: the merchant's keys, the back office's token, a session token, a password, a full card
    // number, and no six-digit number standing alone (the PIN, a one-time code).
    const merchantKeys = JSON.parse(await readFile(join(dir, "pay", "demo-merchant.json"), "utf8")) as {
      secretKey: string;
      webhookSecret: string;
    };
    const operator = JSON.parse(await readFile(join(dir, "issuer", "operator.json"), "utf8")) as { token: string };
    const output = [first, second].map((run) => run.stdout + run.stderr).join("\n");
    for (const secret of [merchantKeys.secretKey, merchantKeys.webhookSecret, operator.token, "sk_test_", "pst_"])
      expect(output).not.toContain(secret);
    expect(output).not.toMatch(/demo-[0-9a-f]{8}-[0-9a-f]{4}/);
    expect(output).not.toMatch(/\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}/);
    expect(output).not.toMatch(/(?<![\w+])\d{6}(?!\w)/);
  });

  it("made its own demo network root at first start, and the demo issuers and wallets trust it alone, never the test roots", async () => {
    expect(firstStart).toMatch(
      /network: made this machine's demo network root [\w-]{43} \(private key .*demo-root\.private\.jwk\.json, mode 0600/,
    );
    expect(firstStart).toMatch(/network: certified the demo issuers kstar for a year/);
    expect(firstStart).toMatch(/network: certified the pay server's PIN-statement key [\w-]{43} for a year/);
    expect((await stat(join(dir, "network", "demo-root.private.jwk.json"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "network"))).mode & 0o077).toBe(0);
    const roots = JSON.parse(await readFile(join(dir, "network", "demo-roots.json"), "utf8")) as NetworkRoot[];
    expect(roots).toHaveLength(1);
    expect(TEST_NETWORK_ROOTS.map((r) => r.kid)).not.toContain(roots[0]!.kid);
    // The issuer host trusts the same root for PIN statements, and serves only certificates it signed.
    expect(JSON.parse(await readFile(join(dir, "issuer", "network-roots.json"), "utf8"))).toEqual(roots);
    const listed = (await (await fetch(`http://127.0.0.1:${ports.issuer}/issuers`)).json()) as Array<{
      issuerId: string;
      certificate: string;
    }>;
    const now = Math.floor(Date.now() / 1000);
    for (const { certificate } of listed) {
      await expect(verifyIssuerCertificate(certificate, roots, now)).resolves.toMatchObject({ issuerId: "kstar" });
      await expect(verifyIssuerCertificate(certificate, TEST_NETWORK_ROOTS, now)).rejects.toMatchObject({
        code: "certificate_untrusted",
      });
    }
    // Its encryption key is made here, not a committed one.
    const made = JSON.parse(
      await readFile(join(dir, "issuer", "kstar", "keys", "encryption-key.private.jwk.json"), "utf8"),
    ) as { d: string };
    expect(
      await readFile(
        fileURLToPath(
          new URL("../services/issuer/fixtures/issuers/kstar/encryption-key.private.jwk.json", import.meta.url),
        ),
        "utf8",
      ),
    ).not.toContain(made.d);
  });
});
