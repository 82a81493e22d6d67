/**
 * Runs the real issuer host (services/issuer/src/main.ts through tsx) as a separate process: the card companies a
 * pay-server process authorizes with, for whole-system tests (and kill -9 between its commit and its answer).
 */
import { fileURLToPath } from "node:url";
import { startServiceProcess, type ServiceProcess } from "./service-process.ts";

const MAIN = fileURLToPath(new URL("../../services/issuer/src/main.ts", import.meta.url));

export type IssuerProcess = ServiceProcess & {
  /** The newest one-time code the simulator "sent" to `phone` (its test inbox). */
  latestCode(phone: string): Promise<string>;
};

export async function startIssuerProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<IssuerProcess> {
  const started = await startServiceProcess("issuer host", MAIN, { ISSUER_PORT: "0", ...env }, timeoutMs);
  return {
    ...started,
    async latestCode(phone) {
      const inbox = (await (await fetch(`${started.url}/test-inbox?phone=${encodeURIComponent(phone)}`)).json()) as {
        messages: Array<{ code: string }>;
      };
      const code = inbox.messages[0]?.code;
      if (!code) throw new Error(`no code was sent to ${phone}`);
      return code;
    },
  };
}
