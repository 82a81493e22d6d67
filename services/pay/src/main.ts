/** `npm start` runs this: the pay server on PAY_PORT (4000) with the configuration of the environment. */
import { loadConfig } from "./config.ts";
import { ensureDemoMerchant, startPayServer, warnIfStatementKeyUncertified } from "./server.ts";

const config = loadConfig();
const server = await startPayServer(config);
await ensureDemoMerchant(server.system);
const database = config.databaseUrl ? "PostgreSQL" : `PGlite in ${config.dataDir}/db`;
process.stdout.write(`MPay pay server listening on ${server.url} (database: ${database}, key provider: ${config.keyProvider})\n`);
process.stdout.write(`  API ${server.url}/v1  ·  OpenAPI ${server.url}/openapi.json  ·  metrics ${server.url}/metrics\n`);
await warnIfStatementKeyUncertified(server.system);
process.send?.({ ready: true, url: server.url });

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.system.log.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
