/**
 * Runs one shop: `node --import tsx examples/mall/src/main.ts` with its settings in the environment (config.ts);
 * `npm start` runs two (Demo Mall on 4400, Hanok Tea House on 4401) with the pay server's demo merchants' keys.
 */
import { MPay } from "@mpay/merchant";
import { buildMall, WEBHOOK_PATH } from "./app.ts";
import { loadMallConfig, MallConfigError } from "./config.ts";
import { openDatabase } from "./db.ts";
import { OrderStore } from "./orders.ts";
import { cookieKey, ensureWebhookEndpoint } from "./setup.ts";

const say = (line: string) => process.stdout.write(`${line}\n`);

let config;
try {
  config = await loadMallConfig();
} catch (error) {
  process.stderr.write(`mall: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
const { brand } = config;
const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
const orders = new OrderStore(db);
const mpay = new MPay({ secretKey: config.secretKey, baseUrl: config.mpayUrl });
let webhookSecrets: string[];
try {
  const endpoint = await ensureWebhookEndpoint(mpay, orders, {
    url: `${config.publicUrl}${WEBHOOK_PATH}`,
    secretKey: config.secretKey,
  });
  webhookSecrets = [endpoint.secret, config.webhookSecret].filter((s): s is string => typeof s === "string");
} catch (error) {
  process.stderr.write(
    `mall (${brand.name}): its webhook endpoint could not be made at ${config.mpayUrl}: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  await db.close();
  process.exit(1);
}
if (webhookSecrets.length === 0) {
  process.stderr.write(
    `mall (${brand.name}): no webhook secret to verify MPay's events with (MALL_WEBHOOK_SECRET or MALL_KEYS_FILE)\n`,
  );
  await db.close();
  process.exit(1);
}
const app = buildMall({
  brand,
  mpay,
  orders,
  cookieKey: await cookieKey(orders, config.cookieSecret),
  publicUrl: config.publicUrl,
  webhookSecrets: () => webhookSecrets,
  log: (line) => say(`mall (${brand.name}): ${line}`),
});
try {
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  if (error instanceof MallConfigError) throw error;
  process.stderr.write(
    `mall (${brand.name}): cannot listen on ${config.host}:${config.port}: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  await db.close();
  process.exit(1);
}
say(
  `${brand.name} (examples/mall) on ${config.publicUrl}  ·  database: ${config.databaseUrl ? "PostgreSQL" : `PGlite in ${config.dataDir}`}`,
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
