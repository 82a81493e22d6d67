/**
 * Runs the real messenger (services/messenger/src/main.ts through tsx) as a separate process, as `npm start` does:
 * the OpenID Connect provider and its login form, for whole-system tests with a pay-server process beside it.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../services/messenger/src/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface MessengerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr. */
  output(): string;
  /** SIGTERM and wait for a graceful exit. */
  stop(): Promise<void>;
}

export async function startMessengerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<MessengerProcess> {
  let output = "";
  const child = fork(MAIN, [], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    env: { PATH: process.env["PATH"] ?? "", MESSENGER_PORT: "0", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`messenger did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    child.on("message", (message: { ready?: boolean; url?: string }) => {
      if (message.ready && message.url) {
        clearTimeout(timer);
        resolve(message.url);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`messenger exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * `count` distinct loopback ports that are free now (all held open at once, so no two are the same). For two
 * processes that must know each other's address before either starts (the messenger registers the pay server's
 * redirect URI at start); the short window in which another program could take a port is accepted in tests.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      servers.map(
        (server) =>
          new Promise<number>((resolve, reject) =>
            server.once("error", reject).listen(0, "127.0.0.1", () => {
              const address = server.address();
              if (typeof address === "object" && address !== null) resolve(address.port);
              else reject(new Error("no port"));
            }),
          ),
      ),
    );
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
