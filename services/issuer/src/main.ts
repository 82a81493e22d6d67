/** `npm start` runs this: the issuer host on ISSUER_PORT (4100), every configured card company in one process. */
import { loadConfig, type IssuerHostConfig } from "./config.ts";
import { startIssuerHost, type RunningIssuerHost } from "./server.ts";

let config: IssuerHostConfig;
let server: RunningIssuerHost;
try {
  config = loadConfig();
  server = await startIssuerHost(config);
} catch (error) {
  // A configuration, key or database problem: one clear line, no stack trace to scroll through.
  process.stderr.write(`issuer host failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
const out = process.stdout;
const database = config.databaseUrl ? "PostgreSQL, one schema per issuer" : `PGlite in ${config.dataDir}/<issuer>/db`;
out.write(`MPay issuer host listening on ${server.url} (database: ${database})\n`);
for (const issuer of server.host.issuers.values()) {
  const ranges = issuer.keys.certificate.binRanges.map((r) => `${r.from}-${r.to}`).join(", ");
  out.write(`  ${issuer.id.padEnd(8)} ${issuer.name} · BINs ${ranges} · ${server.url}/issuers/${issuer.id}/certificate\n`);
}
const { acquirerFile, operatorFile } = server.host.secrets;
out.write(`  acquirer secret ${acquirerFile ? `in ${acquirerFile}` : "from ISSUER_ACQUIRER_SECRET"} · operator token ${operatorFile ? `in ${operatorFile}` : "from ISSUER_OPERATOR_TOKEN"}\n`);
if (config.testInbox) out.write(`  test inbox ${server.url}/test-inbox?phone=%2B821055510001 (test cards: services/issuer/README.md)\n`);
process.send?.({ ready: true, url: server.url });

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.host.log.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
