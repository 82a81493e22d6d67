/** `npm start` runs this: the messenger and its OpenID Connect provider on MESSENGER_PORT (4200). */
import { loadConfig, type MessengerConfig } from "./config.ts";
import { startMessenger, type RunningMessenger } from "./server.ts";

let config: MessengerConfig;
let server: RunningMessenger;
try {
  config = loadConfig();
  server = await startMessenger(config);
} catch (error) {
  // A configuration or database problem: one clear line, no stack trace to scroll through.
  process.stderr.write(`messenger failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
const database = config.databaseUrl ? "PostgreSQL" : `PGlite in ${config.embeddedDatabaseDir}`;
const out = process.stdout;
out.write(`MPay messenger listening on ${server.url} (database: ${database})\n`);
out.write(`  OpenID Connect issuer ${server.issuer}  ·  discovery ${server.issuer}/.well-known/openid-configuration\n`);
out.write(`  sign up ${server.url}/signup  ·  accounts API POST ${server.url}/api/accounts\n`);
for (const client of config.clients) {
  const secret = server.secretFile ? `secret in ${server.secretFile}` : "secret from MESSENGER_PAY_CLIENT_SECRET";
  out.write(`  client ${client.clientId} (${secret}) → ${client.redirectUris.join(", ")}\n`);
}
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
