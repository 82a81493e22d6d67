#!/usr/bin/env node
// `npm start`: starts every MPay process on the embedded default and prints their URLs.
// First the demo card network of this machine (scripts/demo-network.ts: its root, made once under .data/network,
// certifies the demo issuers and the pay server's PIN-statement key); then the pay server (PAY_PORT, 4000), the
// issuer host simulator (ISSUER_PORT, 4100) and the messenger (MESSENGER_PORT, 4200, the OpenID Connect provider);
// the web process joins when it is built. Once all of them are ready it suggests `npm run demo`.
// Where each one is comes from service-kit's systemAddresses, which every service reads too (README, "Configuration").
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";

const root = fileURLToPath(new URL("..", import.meta.url));

// Before anything starts: a port or URL that cannot work (a port browsers and fetch refuse, a malformed URL) is
// told in one line, naming the variable, instead of three services failing one after another.
const { systemAddresses } = await tsImport("@mpay/service-kit/config", import.meta.url);
let urls;
try {
  ({ urls } = systemAddresses(process.env));
} catch (error) {
  process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

// Before any service holds a data folder: the network step runs the pay server's CLI on the embedded database.
const network = spawnSync(process.execPath, ["--import", "tsx", "scripts/demo-network.ts"], {
  cwd: root,
  stdio: "inherit",
  env: process.env,
});
if (network.status !== 0) {
  process.stderr.write("npm start: the demo network could not be set up (above); nothing was started\n");
  process.exit(network.status ?? 1);
}
const processes = [
  { name: "pay", entry: "services/pay/src/main.ts" },
  { name: "messenger", entry: "services/messenger/src/main.ts" },
  { name: "issuer", entry: "services/issuer/src/main.ts" },
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
    if (message?.ready && ready.add(name).size === processes.length) {
      process.stdout.write(`\nMPay is running. Try a first payment: npm run demo   (Ctrl-C stops everything)\n`);
      process.stdout.write(
        `  pay server ${urls.pay}  ·  issuer host ${urls.issuer}  ·  messenger ${urls.messenger}\n\n`,
      );
    }
  });
  child.on("exit", (code, signal) => {
    if (!shuttingDown) {
      process.stderr.write(`${name} exited (${signal ?? code}); stopping the others\n`);
      stopAll(code ?? 1);
    }
  });
  return child;
});

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
