/**
 * Runs the real messenger (services/messenger/src/main.ts through tsx) as a separate process, as `npm start` does:
 * the OpenID Connect provider and its login form, for whole-system tests with a pay-server process beside it.
 */
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { startServiceProcess, type ServiceProcess } from "./service-process.ts";

const MAIN = fileURLToPath(new URL("../../services/messenger/src/main.ts", import.meta.url));

export type MessengerProcess = ServiceProcess;

export function startMessengerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<MessengerProcess> {
  return startServiceProcess("messenger", MAIN, { MESSENGER_PORT: "0", ...env }, timeoutMs);
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
