/** `npm start` runs this: the pay server on PAY_PORT (4000) with the configuration of the environment. */
import { runServiceMain } from "@mpay/service-kit";
import { loadConfig } from "./config.ts";
import {
  ensureDemoMerchant,
  ensureDemoOwner,
  ensureDemoStaff,
  startPayServer,
  warnIfStatementKeyUncertified,
} from "./server.ts";

await runServiceMain({
  name: "pay server",
  start: () => startPayServer(loadConfig()),
  async started(server) {
    const { config } = server.system;
    await ensureDemoMerchant(server.system);
    await ensureDemoOwner(server.system);
    await ensureDemoStaff(server.system);
    const database = config.databaseUrl ? "PostgreSQL" : `PGlite in ${config.dataDir}/db`;
    process.stdout.write(
      `MPay pay server listening on ${server.url} (database: ${database}, key provider: ${config.keyProvider})\n`,
    );
    process.stdout.write(
      `  API ${server.url}/v1  ·  OpenAPI ${server.url}/openapi.json  ·  metrics ${server.url}/metrics\n`,
    );
    await warnIfStatementKeyUncertified(server.system);
  },
  stopping: (server, signal) => server.system.log.info({ signal }, "shutting down"),
});
