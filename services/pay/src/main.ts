/**
 * `npm start` runs this: the pay server on PAY_PORT (4000) with the configuration of the environment; with
 * MPAY_PAY_PROCESSES=N > 1 (PostgreSQL only), N such processes behind the port under a cluster primary (cluster.ts).
 */
import cluster from "node:cluster";
import { runServiceMain } from "@mpay/service-kit";
import { runPrimary } from "./cluster.ts";
import { loadConfig } from "./config.ts";
import {
  ensureDemoMerchant,
  ensureDemoOwner,
  ensureDemoStaff,
  startPayServer,
  warnIfStatementKeyUncertified,
} from "./server.ts";

/** The primary reads the configuration first: a bad one (N > 1 on PGlite, say) is one line before any fork. */
function processesToRun(): number {
  if (!cluster.isPrimary) return 1;
  try {
    return loadConfig().cluster.processes;
  } catch (error) {
    process.stderr.write(`pay server failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

const processes = processesToRun();
if (processes > 1) {
  await runPrimary({ processes });
} else {
  await runServiceMain({
    name: "pay server",
    start: () => startPayServer(loadConfig()),
    async started(server) {
      const { config } = server.system;
      await ensureDemoMerchant(server.system);
      await ensureDemoOwner(server.system);
      await ensureDemoStaff(server.system);
      const database = config.databaseUrl ? "PostgreSQL" : `PGlite in ${config.dataDir}/db`;
      const worker = cluster.isWorker ? ` (process ${process.pid})` : "";
      process.stdout.write(
        `MPay pay server listening on ${server.url}${worker} (database: ${database}, key provider: ${config.keyProvider})\n`,
      );
      process.stdout.write(
        `  API ${server.url}/v1  ·  OpenAPI ${server.url}/openapi.json  ·  metrics ${server.url}/metrics\n`,
      );
      await warnIfStatementKeyUncertified(server.system);
    },
    stopping: (server, signal) => server.system.log.info({ signal }, "shutting down"),
  });
}
