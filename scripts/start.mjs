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
// their test cards and test-inbox pages, `npm run demo -- checkout`), then where every process is.
// Where each one is comes from service-kit's systemAddresses, which every service reads too (README, "Configuration").
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";

const root = fileURLToPath(new URL("..", import.meta.url));

// Before anything starts: a port or URL that cannot work (a port browsers and fetch refuse, a malformed URL) is
// told in one line, naming the variable, instead of three services failing one after another.
const { envBoolean, systemAddresses, webAuthnRelyingParty } = await tsImport(
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
 * Once everything is ready: the demo payers made ready and the "Try it" block, then the running line. One write, the
 * block first: whoever waits for the running line (e2e/support/npm-start.ts) has the block too. A demo payer that
 * cannot be made ready is told in one line and the system keeps running; `npm run demo` needs none of them.
 */
async function announceRunning() {
  let tryItBlock = "";
  try {
    const { tryIt } = await tsImport("./demo/try-it.ts", import.meta.url);
    tryItBlock = await tryIt(process.env);
  } catch (error) {
    process.stderr.write(
      `npm start: the demo payers could not be made ready: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
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
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), 500).unref();
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once("exit", r))))).then(() =>
    process.exit(code),
  );
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));
