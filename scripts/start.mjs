#!/usr/bin/env node
// `npm start`: starts every MPay process on the embedded default and prints their URLs.
// Today: the pay server and the messenger (OpenID Connect provider); the issuer and web processes join as they are built.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const processes = [
  { name: "pay", entry: "services/pay/src/main.ts" },
  { name: "messenger", entry: "services/messenger/src/main.ts" },
  { name: "issuer", entry: "services/issuer/src/main.ts" },
];

const children = processes.map(({ name, entry }) => {
  const child = spawn(process.execPath, ["--import", "tsx", entry], { cwd: root, stdio: "inherit", env: process.env });
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
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once("exit", r))))).then(() => process.exit(code));
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));
