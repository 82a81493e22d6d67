/** `npm start` runs this: the issuer host on ISSUER_PORT (4100), every configured card company in one process. */
import { runServiceMain } from "@mpay/service-kit";
import { loadConfig } from "./config.ts";
import { startIssuerHost } from "./server.ts";

await runServiceMain({
  name: "issuer host",
  start: () => startIssuerHost(loadConfig()),
  started(server) {
    const { config } = server.host;
    const out = process.stdout;
    const database = config.databaseUrl
      ? "PostgreSQL, one schema per issuer"
      : `PGlite in ${config.dataDir}/<issuer>/db`;
    out.write(`MPay issuer host listening on ${server.url} (database: ${database})\n`);
    for (const issuer of server.host.issuers.values()) {
      const ranges = issuer.keys.certificate.binRanges.map((r) => `${r.from}-${r.to}`).join(", ");
      out.write(
        `  ${issuer.id.padEnd(8)} ${issuer.name} · BINs ${ranges} · ${server.url}/issuers/${issuer.id}/certificate\n`,
      );
    }
    const { acquirerFile, operatorFile } = server.host.secrets;
    out.write(
      `  acquirer secret ${acquirerFile ? `in ${acquirerFile}` : "from ISSUER_ACQUIRER_SECRET"} · operator token ${operatorFile ? `in ${operatorFile}` : "from ISSUER_OPERATOR_TOKEN"}\n`,
    );
    if (config.testInbox)
      out.write(
        `  test inbox ${server.url}/test-inbox?phone=%2B821055510001 (test cards: services/issuer/README.md)\n`,
      );
  },
  stopping: (server, signal) => server.host.log.info({ signal }, "shutting down"),
});
