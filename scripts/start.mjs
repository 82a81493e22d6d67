#!/usr/bin/env node
// `npm start`: starts every MPay process on the embedded default and prints their URLs.
// First the demo card network of this machine (scripts/demo-network.ts: its root, made once under .data/network,
// certifies the demo issuers and the pay server's PIN-statement key) and, meanwhile, the web app's production build
// (apps/web/server/build.ts, Vite, about a second; MPAY_WEB_BUILD=off serves the build that is there, as the e2e
// tests do after building once per run); then the pay server (PAY_PORT, 4000), the issuer host simulator
// (ISSUER_PORT, 4100), the messenger (MESSENGER_PORT, 4200, the OpenID Connect provider) and the web app
// (MPAY_WEB_URL's port, 4300: hosted checkout, messenger and wallet). Once all of them are ready it makes the demo
// payers ready at the messenger (scripts/demo/try-it.ts: two accounts, friends with a chat, credentials kept in
// <MPAY_DEMO_DIR>/payers.json) and prints a "Try it" block (where the messenger and the wallet are, the payers,
// their test cards and test-inbox pages, `npm run demo -- checkout`), then where every process is. Once they are
// up, the two demo shops of examples/mall start too (Demo Mall on MALL_PORT, 4400; Hanok Tea House on
// TEA_HOUSE_PORT, 4401), each as its demo merchant; the Try-it block lists them (a block of their own follows it when
// they are still starting). A shop that cannot start is told in one line and MPay runs on without it.
// Where each one is comes from service-kit's systemAddresses, which every service reads too (README, "Configuration").
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";

const root = fileURLToPath(new URL("..", import.meta.url));

// Before anything starts: a port or URL that cannot work (a port browsers and fetch refuse, a malformed URL) is
// told in one line, naming the variable, instead of three services failing one after another.
const { envBoolean, envPort, systemAddresses, webAuthnRelyingParty } = await tsImport(
  "@mpay/service-kit/config",
  import.meta.url,
);
let urls;
let passkeys;
try {
  ({ urls } = systemAddresses(process.env));
  // The pay server and the issuers read the passkeys' relying party the same way: a setting that can never work
  // (an IP address as RP ID, an origin off its domain) stops here, before anything starts.
  passkeys = webAuthnRelyingParty(process.env, "MPAY", urls.web);
  webAuthnRelyingParty(process.env, "ISSUER", urls.web);
  // The demo shops' ports (below): fixed ones, since their merchants' return origins name them.
  for (const [name, fallback] of [
    ["MALL_PORT", 4400],
    ["TEA_HOUSE_PORT", 4401],
  ]) {
    if (envPort(process.env, name, fallback) === 0) throw new Error(`${name}: the demo shop needs a fixed port, not 0`);
  }
} catch (error) {
  process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

/** Runs a setup step as a child process; resolves with its exit code. */
function step(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], {
      cwd: root,
      stdio: "inherit",
      env: process.env,
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

let buildWeb = true;
try {
  buildWeb = envBoolean(process.env, "MPAY_WEB_BUILD", true);
} catch (error) {
  process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
// Before any service holds a data folder: the network step runs the pay server's CLI on the embedded database.
// The web build touches only apps/web/dist, so it runs meanwhile.
const [network, web] = await Promise.all([
  step(["scripts/demo-network.ts"]),
  buildWeb ? step(["apps/web/server/build.ts"]) : 0,
]);
if (network !== 0) {
  process.stderr.write("npm start: the demo network could not be set up (above); nothing was started\n");
  process.exit(network);
}
if (web !== 0) {
  process.stderr.write("npm start: the web app could not be built (above); nothing was started\n");
  process.exit(web);
}
const processes = [
  { name: "pay", entry: "services/pay/src/main.ts" },
  { name: "messenger", entry: "services/messenger/src/main.ts" },
  { name: "issuer", entry: "services/issuer/src/main.ts" },
  { name: "web", entry: "apps/web/server/main.ts" },
];

/** The services that said they are ready. */
const ready = new Set();
const children = processes.map(({ name, entry }) => {
  // The IPC channel carries each service's `{ ready, url }` (its main.ts sends it once it listens).
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: root,
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    env: process.env,
  });
  child.on("message", (message) => {
    if (message?.ready && ready.add(name).size === processes.length) void announceRunning();
  });
  child.on("exit", (code, signal) => {
    if (!shuttingDown) {
      process.stderr.write(`${name} exited (${signal ?? code}); stopping the others\n`);
      stopAll(code ?? 1);
    }
  });
  return child;
});

/**
 * The demo shops (examples/mall, a merchant's shop built on @mpay/merchant only), one process per brand, each as
 * the demo merchant the pay server made for it on its first start: the shop reads that merchant's keys file itself
 * (MALL_KEYS_FILE; no key passes through the environment or this output) and keeps its orders in a database of its
 * own beside the pay server's data folder. Its webhook URL is on 127.0.0.1, which MPay delivers to for test-mode
 * merchants only (services/pay/src/webhooks/url-guard.ts).
 */
const SHOPS = [
  { brand: "demo-mall", name: "Demo Mall", portVariable: "MALL_PORT", port: 4400, keys: "demo-merchant.json" },
  {
    brand: "tea-house",
    name: "Hanok Tea House",
    portVariable: "TEA_HOUSE_PORT",
    port: 4401,
    keys: "demo-merchant-tea-house.json",
  },
];
const shopChildren = [];
/** Resolves with the lines of the shops that run (none on PostgreSQL: the demo merchants are the embedded default's). */
function startShops() {
  // Off for a system that wants no demo shop (and for whole-system tests that do not visit one: e2e/support/npm-start.ts).
  if (process.env.MPAY_DEMO_SHOPS === "off") return Promise.resolve([]);
  const payDataDir = resolve(root, process.env.MPAY_DATA_DIR || ".data/pay");
  return Promise.all(
    SHOPS.map((shop) => {
      const keysFile = join(payDataDir, shop.keys);
      if (!existsSync(keysFile)) return null;
      const port = process.env[shop.portVariable] || String(shop.port);
      const env = { ...process.env };
      // npm start decides these per shop; one set in the terminal would make both shops the same merchant.
      for (const name of Object.keys(env)) if (name.startsWith("MALL_")) delete env[name];
      Object.assign(env, {
        MALL_BRAND: shop.brand,
        MALL_PORT: port,
        MALL_KEYS_FILE: keysFile,
        MALL_MPAY_URL: urls.pay,
        MALL_DATA_DIR: join(dirname(payDataDir), "mall", shop.brand),
      });
      const child = spawn(process.execPath, ["--import", "tsx", "examples/mall/src/main.ts"], {
        cwd: root,
        stdio: ["ignore", "ignore", "inherit", "ipc"],
        env,
      });
      shopChildren.push(child);
      return new Promise((done) => {
        child.on("message", (message) => {
          if (message?.ready) done(`  ${shop.name.padEnd(16)} ${message.url}`);
        });
        child.on("exit", (code, signal) => {
          if (!shuttingDown)
            process.stderr.write(
              `npm start: ${shop.name} (examples/mall) stopped (${signal ?? code}); MPay runs on without it\n`,
            );
          done(null);
        });
      });
    }),
  ).then((lines) => lines.filter((line) => line !== null));
}

function shopsBlock(lines) {
  return `Shops that take MPay (examples/mall; each is a demo merchant, paid in the wallet, marked paid by its webhook):\n${lines.join("\n")}\n`;
}

/**
 * Once everything is ready: the demo payers made ready and the "Try it" block, then the running line. One write, the
 * block first: whoever waits for the running line (e2e/support/npm-start.ts) has the block too. A demo payer that
 * cannot be made ready is told in one line and the system keeps running; `npm run demo` needs none of them.
 */
async function announceRunning() {
  // The shops start once MPay is up (they register their webhook endpoints with the pay server), not before: on a
  // loaded machine they would slow the services' own start.
  const shopsStarted = startShops();
  let tryItBlock = "";
  try {
    const { tryIt } = await tsImport("./demo/try-it.ts", import.meta.url);
    tryItBlock = await tryIt(process.env);
  } catch (error) {
    process.stderr.write(
      `npm start: the demo payers could not be made ready: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
  // The shops join the block if they are up by now; MPay's own readiness never waits long for them (a first start
  // makes their databases too): a shop still starting is listed in a block of its own once it is up.
  const shopLines = await Promise.race([shopsStarted, new Promise((done) => setTimeout(() => done(null), 5_000))]);
  if (shopLines?.length) tryItBlock += `${tryItBlock ? "\n" : ""}${shopsBlock(shopLines)}`;
  else
    void shopsStarted.then((lines) => {
      if (lines.length > 0 && !shuttingDown) process.stdout.write(`\n${shopsBlock(lines)}\n`);
    });
  if (shuttingDown) return;
  // Not refused (the PIN works, and tests use such a URL on purpose), but said: an IP-address web app cannot have
  // passkeys, and the wallet says so too (service-kit's relying-party.ts).
  let passkeysNote = "";
  if (passkeys === null) {
    const named = new URL(urls.web);
    named.hostname = "localhost";
    passkeysNote = `Passkeys are off: the web app's URL is an IP address, and browsers allow passkeys only at a host name (MPAY_WEB_URL=${named.origin}).\n`;
  }
  process.stdout.write(
    `\n${tryItBlock ? `${tryItBlock}\n` : ""}${passkeysNote}MPay is running.${tryItBlock ? "" : " Try a first payment: npm run demo"}   (Ctrl-C stops everything)\n` +
      // The web app first, the services after it: this line ends with the messenger (e2e/support/npm-start.ts).
      `  web app ${urls.web}  ·  pay server ${urls.pay}  ·  issuer host ${urls.issuer}  ·  messenger ${urls.messenger}\n\n`,
  );
}

let shuttingDown = false;
function stopAll(code) {
  shuttingDown = true;
  for (const child of [...children, ...shopChildren]) if (child.exitCode === null) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), 500).unref();
  Promise.all(
    [...children, ...shopChildren].map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once("exit", r)))),
  ).then(() => process.exit(code));
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));
