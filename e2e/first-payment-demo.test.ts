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
  it("fails with one line that says to start the system, as does npm run demo -- checkout", async () => {
    for (const args of [[], ["checkout"]]) {
      const run = await runDemo(env, 60_000, args);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toMatch(/MPay is not running .*start it with npm start/);
    }
  });

  it("names its three commands in one line when given another", async () => {
    const run = await runDemo(env, 60_000, ["refund"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(
      /unknown command "refund": npm run demo .*, npm run demo -- checkout .* or npm run demo -- totp \(the demo dashboard owner's and console admin's sign-in codes\)/,
    );
  });
});

interface DemoUsersFile {
  dashboard: { email: string; password: string; totpSecret: string };
  console: { email: string; password: string; totpSecret: string };
}

interface KeptPayers {
  payers: Array<{ displayName: string; phoneNumber: string; password: string }>;
}

/** The "Try it" block of an npm start's output: from its title to the running line. */
function tryItBlockOf(output: string): string {
  const start = output.indexOf("Try it in a browser");
  expect(start, "npm start printed a Try-it block").toBeGreaterThanOrEqual(0);
  return output.slice(start, output.indexOf("MPay is running.", start));
}

describe("npm run demo against npm start (scripts/start.mjs: the demo network, then the three services) [pglite]", () => {
  let system: StartedSystem | undefined;
  let firstStart = "";

  // npm start's first start makes the network, the demo merchant and the demo payers: more than the default hook
  // time on a busy machine.
  beforeAll(async () => {
    system = await npmStart(env);
    firstStart = system.output();
  }, 240_000);

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

  it("prints a Try-it block once ready: the web app's messenger and wallet, the demo payers with their passwords, test cards and test-inbox pages", async () => {
    const block = tryItBlockOf(firstStart);
    expect(block).toContain(
      `messenger http://127.0.0.1:${ports.web}/   ·   wallet http://127.0.0.1:${ports.web}/wallet`,
    );
    // Made on this first start, with random passwords kept in the demo folder (mode 0600).
    const keptFile = join(dir, "demo", "payers.json");
    expect((await stat(keptFile)).mode & 0o777).toBe(0o600);
    const kept = JSON.parse(await readFile(keptFile, "utf8")) as KeptPayers;
    expect(kept.payers.map((p) => [p.displayName, p.phoneNumber])).toEqual([
      ["Kim Minji", "+821055520001"],
      ["Lee Junho", "+821055520002"],
    ]);
    for (const payer of kept.payers) expect(block).toContain(`phone ${payer.phoneNumber}   password ${payer.password}`);
    // Only KStar runs here: both cards are KStar's, each with the test inbox of its phone.
    expect(block).toContain("test card  KStar Card visa 4222 0000 0000 0012, expiry 12/31, CVC 742");
    expect(block).toContain("test card  KStar Card mastercard 5222 0000 0000 0027, expiry 12/31, CVC 491");
    const inbox = `http://127.0.0.1:${ports.issuer}/test-inbox?phone=%2B821055520001`;
    expect(block).toContain(`its codes  ${inbox}`);
    expect(block).toContain(`its codes  http://127.0.0.1:${ports.issuer}/test-inbox?phone=%2B821055520002`);
    expect(block).toContain("npm run demo -- checkout");
    // The test inbox URL is a page for the newcomer's browser.
    const page = await fetch(inbox, { headers: { accept: "text/html" } });
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain("Test inbox of +821055520001");
    // The merchant's keys are named by their file, never shown.
    const merchantKeys = JSON.parse(await readFile(join(dir, "pay", "demo-merchant.json"), "utf8")) as {
      secretKey: string;
      webhookSecret: string;
    };
    expect(block).toContain(join(dir, "pay", "demo-merchant.json"));
    for (const secret of [merchantKeys.secretKey, merchantKeys.webhookSecret, "sk_test_", "whsec_"])
      expect(block).not.toContain(secret);
    // Nor anywhere in the first start's output, where the pay server makes the demo merchant: it names the file.
    expect(firstStart).toContain(`its secret key and webhook secret are in ${join(dir, "pay", "demo-merchant.json")}`);
    for (const secret of [merchantKeys.secretKey, merchantKeys.webhookSecret]) expect(firstStart).not.toContain(secret);
  });

  it("makes the demo dashboard owner and console admin once, in demo-users.json (0600), and the block names both where they sign in", async () => {
    const usersFile = join(dir, "pay", "demo-users.json");
    expect((await stat(usersFile)).mode & 0o777).toBe(0o600);
    const users = JSON.parse(await readFile(usersFile, "utf8")) as DemoUsersFile;
    expect([users.dashboard.email, users.console.email]).toEqual(["owner@demo-mall.test", "admin@mpay.test"]);
    // The demo mall reads demo-merchant.json for its keys: no person's credentials are there.
    expect(Object.keys(JSON.parse(await readFile(join(dir, "pay", "demo-merchant.json"), "utf8")))).not.toContain(
      "dashboard",
    );
    const web = `http://127.0.0.1:${ports.web}`;
    const block = tryItBlockOf(firstStart);
    expect(block).toContain(`Merchant dashboard ${web}/dashboard`);
    expect(block).toContain(
      `owner@demo-mall.test   password ${users.dashboard.password}   sign-in code: npm run demo -- totp`,
    );
    expect(block).toContain(`Operator console ${web}/console`);
    expect(block).toContain(
      `admin@mpay.test   password ${users.console.password}   sign-in code: npm run demo -- totp`,
    );
    expect(block).toContain(usersFile);
    // The pay server names the file as it makes them; no seed is printed anywhere, no password outside the block.
    expect(firstStart).toContain(
      `Demo dashboard owner owner@demo-mall.test: password and TOTP secret are in ${usersFile}`,
    );
    expect(firstStart).toContain(`Demo console admin admin@mpay.test: password and TOTP secret are in ${usersFile}`);
    for (const secret of [users.dashboard.totpSecret, users.console.totpSecret])
      expect(firstStart).not.toContain(secret);
    const outsideBlock = firstStart.replace(block, "");
    for (const secret of [users.dashboard.password, users.console.password]) expect(outsideBlock).not.toContain(secret);
  });

  it("npm run demo -- totp prints both sign-in codes, labelled, and the console admin signs in with its password and that code", async () => {
    const users = JSON.parse(await readFile(join(dir, "pay", "demo-users.json"), "utf8")) as DemoUsersFile;
    const both = await runDemo(env, 60_000, ["totp"]);
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toMatch(
      /^Merchant dashboard {2}\d{6} {2}owner@demo-mall\.test at http:\/\/127\.0\.0\.1:\d+\/dashboard$/m,
    );
    expect(both.stdout).toMatch(
      /^Operator console {4}\d{6} {2}admin@mpay\.test at http:\/\/127\.0\.0\.1:\d+\/console$/m,
    );
    for (const secret of [users.dashboard.password, users.console.password, users.console.totpSecret])
      expect(both.stdout).not.toContain(secret);

    const unknown = await runDemo(env, 60_000, ["totp", "mall"]);
    expect([unknown.code, unknown.stdout]).toEqual([1, ""]);
    expect(unknown.stderr).toMatch(/unknown sign-in "mall": npm run demo -- totp \(both\)/);

    const one = await runDemo(env, 60_000, ["totp", "console"]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).not.toContain("Merchant dashboard");
    const code = /^Operator console {2}(\d{6}) /m.exec(one.stdout)?.[1];
    expect(code, one.stdout).toBeDefined();
    const pay = `http://127.0.0.1:${ports.pay}`;
    const post = (path: string, body: unknown) =>
      fetch(`${pay}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const challenge = (await (
      await post("/v1/staff/sign-in", { email: users.console.email, password: users.console.password })
    ).json()) as { challenge: string; factor: string };
    expect(challenge.factor).toBe("totp");
    const session = await post("/v1/staff/sign-in/totp", { challenge: challenge.challenge, code });
    expect(session.status).toBe(200);
    expect(((await session.json()) as { staff: { role: string } }).staff.role).toBe("admin");
  });

  it("npm run demo -- checkout makes a 35,000 KRW payment as Demo Mall and prints its checkout and wallet links, and no key", async () => {
    const run = await runDemo(env, 60_000, ["checkout"]);
    expect(run.code, run.stderr).toBe(0);
    const web = `http://127.0.0.1:${ports.web}`;
    const id = new RegExp(`checkout\\s+${web}/checkout/(pay_\\w+)\\n`).exec(run.stdout)?.[1];
    expect(id, run.stdout).toBeDefined();
    expect(run.stdout).toMatch(new RegExp(`in the wallet\\s+${web}/wallet/pay/${id}\\n`));
    expect(run.stdout).toContain(`Demo Mall asks for 35,000 KRW: payment ${id}`);
    // The payment is there, waiting for a payer, as the merchant's API says.
    const merchantKeys = JSON.parse(await readFile(join(dir, "pay", "demo-merchant.json"), "utf8")) as {
      secretKey: string;
      webhookSecret: string;
    };
    const payment = (await (
      await fetch(`http://127.0.0.1:${ports.pay}/v1/payments/${id}`, {
        headers: { authorization: `Bearer ${merchantKeys.secretKey}` },
      })
    ).json()) as Record<string, unknown>;
    expect(payment).toMatchObject({
      status: "requires_approval",
      amount: 35_000,
      currency: "KRW",
      captureMethod: "automatic",
      checkoutUrl: `${web}/checkout/${id}`,
    });
    // The web app serves the checkout at that link.
    expect((await fetch(`${web}/checkout/${id}`)).status).toBe(200);
    const kept = JSON.parse(await readFile(join(dir, "demo", "payers.json"), "utf8")) as KeptPayers;
    const output = run.stdout + run.stderr;
    for (const secret of [
      merchantKeys.secretKey,
      merchantKeys.webhookSecret,
      "sk_test_",
      ...kept.payers.map((p) => p.password),
    ])
      expect(output).not.toContain(secret);
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
    // The demo payers are kept as they were (same passwords), and this start prints no merchant key at all: the
    // pay server shows them once, on the start that makes the demo merchant.
    const keptPayers = JSON.parse(await readFile(join(dir, "demo", "payers.json"), "utf8")) as KeptPayers;
    expect(tryItBlockOf(firstStart)).toContain(`password ${keptPayers.payers[0]!.password}`);
    expect(tryItBlockOf(system.output())).toContain(`password ${keptPayers.payers[0]!.password}`);
    expect(tryItBlockOf(system.output())).toContain(`password ${keptPayers.payers[1]!.password}`);
    expect(system.output()).not.toMatch(/sk_test_|whsec_/);
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
