/**
 * Runs the real pay server as a separate process (`services/pay/src/main.ts` through tsx), for tests across
 * processes: concurrency between two servers on one database, kill -9 and restart.
 */
import { fileURLToPath } from "node:url";
import { startServiceProcess, type ServiceProcess } from "./service-process.ts";

const MAIN = fileURLToPath(new URL("../../services/pay/src/main.ts", import.meta.url));

export type PayProcess = ServiceProcess;

export function startPayProcess(env: Record<string, string>, timeoutMs = 60_000): Promise<PayProcess> {
  return startServiceProcess("pay server", MAIN, { PAY_PORT: "0", ...env }, timeoutMs);
}
