/** `npm start` runs this: the messenger and its OpenID Connect provider on MESSENGER_PORT (4200). */
import { runServiceMain } from "@mpay/service-kit";
import { loadConfig } from "./config.ts";
import { startMessenger } from "./server.ts";

await runServiceMain({
  name: "messenger",
  start: () => startMessenger(loadConfig()),
  started(server) {
    const { config } = server.system;
    const database = config.databaseUrl ? "PostgreSQL" : `PGlite in ${config.embeddedDatabaseDir}`;
    const out = process.stdout;
    out.write(`MPay messenger listening on ${server.url} (database: ${database})\n`);
    out.write(
      `  OpenID Connect issuer ${server.issuer}  ·  discovery ${server.issuer}/.well-known/openid-configuration\n`,
    );
    out.write(`  sign up ${server.url}/signup  ·  accounts API POST ${server.url}/api/accounts\n`);
    for (const client of config.clients) {
      const secret = server.secretFile ? `secret in ${server.secretFile}` : "secret from MESSENGER_PAY_CLIENT_SECRET";
      out.write(`  client ${client.clientId} (${secret}) → ${client.redirectUris.join(", ")}\n`);
    }
  },
  stopping: (server, signal) => server.system.log.info({ signal }, "shutting down"),
});
