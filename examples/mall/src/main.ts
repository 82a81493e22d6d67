/**
 * Runs one shop: `node --import tsx examples/mall/src/main.ts` with its settings in the environment (config.ts);
 * `npm start` runs two (Demo Mall on 4400, Hanok Tea House on 4401) with the pay server's demo merchants' keys.
 */
import { MPay } from "@mpay/merchant";
import { buildMall, WEBHOOK_PATH } from "./app.ts";
import { loadMallConfig } from "./config.ts";
import { openDatabase } from "./db.ts";
import { OrderStore } from "./orders.ts";
import { cookieKey, ensureWebhookEndpoint } from "./setup.ts";

const fail = (line: string) => process.stderr.write(`${line}\n`);
const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

let config;
try {
  config = await loadMallConfig();
} catch (error) {
  fail(`mall: ${reason(error)}`);
  process.exit(1);
}
const { brand } = config;
const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
const orders = new OrderStore(db);
const mpay = new MPay({ secretKey: config.secretKey, baseUrl: config.mpayUrl });
/** Set once the endpoint is known; until then every webhook is refused (400) and MPay retries it. */
let webhookSecrets: string[] = [];
const app = buildMall({
  brand,
  mpay,
  orders,
  cookieKey: await cookieKey(orders, config.cookieSecret),
  publicUrl: config.publicUrl,
  webhookSecrets: () => webhookSecrets,
  // Warnings only (a refused webhook, a payment not created), on stderr; never a key or a secret.
  log: (line) => fail(`mall (${brand.name}): ${line}`),
});

async function giveUp(line: string): Promise<never> {
  fail(`mall (${brand.name}): ${line}`);
  await app.close();
  await db.close();
  process.exit(1);
}

// Listening first: a shop whose port is taken registers no webhook URL that another process answers.
try {
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  await giveUp(`cannot listen on ${config.host}:${config.port}: ${reason(error)}`);
}
try {
  const endpoint = await ensureWebhookEndpoint(mpay, orders, {
    url: `${config.publicUrl}${WEBHOOK_PATH}`,
    secretKey: config.secretKey,
  });
  webhookSecrets = [endpoint.secret, config.webhookSecret].filter((s): s is string => typeof s === "string");
} catch (error) {
  await giveUp(`its webhook endpoint could not be made at ${config.mpayUrl}: ${reason(error)}`);
}
if (webhookSecrets.length === 0)
  await giveUp("no secret to verify MPay's webhooks with: set MALL_WEBHOOK_SECRET (or MALL_KEYS_FILE)");

process.stdout.write(
  `${brand.name} (examples/mall) on ${config.publicUrl}  ·  database: ${config.databaseUrl ? "PostgreSQL" : `PGlite in ${config.dataDir}`}\n`,
);
process.send?.({ ready: true, url: config.publicUrl });

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await app.close();
  await db.close();
  process.exit(0);
}
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
