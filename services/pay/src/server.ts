/**
 * Starts the pay server: opens the system, serves HTTP, runs the workers, and shuts down gracefully on SIGTERM or
 * SIGINT (stop accepting, finish in-flight requests, stop workers, close the database).
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { listeningUrl, stopInOrder, type RunningService } from "@mpay/service-kit";
import { buildApp } from "./app.ts";
import { loadConfig, type PayConfig } from "./config.ts";
import { openPaySystem, type PaySystem } from "./system.ts";
import { Secret } from "@mpay/protocol";
import { newTotpSecret } from "./credentials/totp.ts";

export interface RunningPayServer extends RunningService {
  system: PaySystem;
  app: FastifyInstance;
}

export async function startPayServer(config: PayConfig = loadConfig()): Promise<RunningPayServer> {
  const system = await openPaySystem(config);
  const app = await buildApp(system);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await system.close();
    throw error;
  }
  system.startWorkers();
  return {
    system,
    app,
    url: listeningUrl(config.host, app.server.address(), config.port),
    stop: stopInOrder(
      () => app.close(),
      () => system.close(),
    ),
  };
}

/**
 * The demo merchants, one per shop examples/mall runs under `npm start`: each registers the return origins of its
 * shop's port and keeps its keys in a file of its own (mode 0600) in the data folder, where `npm start` reads them
 * for the shop. Demo Mall's file keeps its first name: `npm run demo` and the README point to it.
 */
export const DEMO_MERCHANTS = [
  { name: "Demo Mall", file: "demo-merchant.json", portVariable: "MALL_PORT", defaultPort: 4400 },
  { name: "Hanok Tea House", file: "demo-merchant-tea-house.json", portVariable: "TEA_HOUSE_PORT", defaultPort: 4401 },
] as const;

/** On the first start of the embedded default, the demo merchants exist so that a newcomer can try the API at once. */
export async function ensureDemoMerchant(system: PaySystem, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // A sealed vault (shamir) cannot seal the demo merchant's webhook secret; the demo is for the dev provider anyway.
  if (system.config.databaseUrl || system.keys.isSealed()) return;
  const existing = new Set((await system.merchants.list()).map((merchant) => merchant.name));
  // Only on a data folder that holds nothing but demo merchants: one made before Hanok Tea House existed gets it too,
  // an operator's own merchants are never joined by demo ones.
  if ([...existing].some((name) => !DEMO_MERCHANTS.some((demo) => demo.name === name))) return;
  for (const demo of DEMO_MERCHANTS) {
    if (existing.has(demo.name)) continue;
    const port = env[demo.portVariable] || String(demo.defaultPort);
    const created = await system.merchants.create({
      name: demo.name,
      allowedOrigins: [`http://127.0.0.1:${port}`, `http://localhost:${port}`],
      actor: "system:first-start",
    });
    const keys = {
      id: created.merchant.id,
      secretKey: created.secretKey.peek(),
      publishableKey: created.publishableKey,
      webhookSecret: created.webhookSecret.peek(),
    };
    const file = join(system.config.dataDir, demo.file);
    await writeFile(file, JSON.stringify(keys, null, 2) + "\n", { mode: 0o600 });
    // The secrets stay in the file (mode 0600): a terminal's output ends up in scroll-back, CI logs and process
    // managers' logs. Only where they are and what is not secret is printed.
    const who = demo.name === "Demo Mall" ? "Demo merchant" : `Demo merchant ${demo.name}`;
    process.stdout.write(
      `\n${who} created (test mode): ${keys.id}, publishable key ${keys.publishableKey}; its secret key and webhook secret are in ${file}\n\n`,
    );
  }
}

export const DEMO_OWNER_EMAIL = "owner@demo-mall.test";

/**
 * The demo merchant's dashboard owner (issue 10): made once, beside the demo merchant, with a random password and a
 * TOTP seed already set up, both added to the demo merchant's file (mode 0600) as `dashboard`. Only the file's name
 * is printed; `npm run demo -- totp` prints the current code from it.
 */
export async function ensureDemoOwner(system: PaySystem): Promise<void> {
  if (system.config.databaseUrl || system.keys.isSealed()) return;
  const file = join(system.config.dataDir, "demo-merchant.json");
  let demo: Record<string, unknown>;
  try {
    demo = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  } catch {
    return; // no demo merchant on this data folder
  }
  if (typeof demo["id"] !== "string" || demo["dashboard"] || (await system.merchantUsers.findByEmail(DEMO_OWNER_EMAIL)))
    return;
  const password = randomBytes(12).toString("base64url");
  const totpSecret = newTotpSecret();
  const { user } = await system.merchantUsers.create({
    merchantId: demo["id"],
    email: DEMO_OWNER_EMAIL,
    name: "Demo Owner",
    role: "owner",
    actor: "system:first-start",
    password: new Secret(password),
  });
  await system.merchantUsers.setTotpSecret(user.id, new Secret(totpSecret));
  demo["dashboard"] = { email: DEMO_OWNER_EMAIL, password, totpSecret };
  await writeFile(file, JSON.stringify(demo, null, 2) + "\n", { mode: 0o600 });
  process.stdout.write(
    `Demo dashboard owner ${DEMO_OWNER_EMAIL}: password and TOTP secret are in ${file} (npm run demo -- totp prints the current code)\n\n`,
  );
}

/**
 * An operator who has not installed the card network's certificate of the PIN-statement key learns it at start,
 * not from the first payer refused (docs/network.md). Skipped while the vault is sealed: the key cannot be read.
 */
export async function warnIfStatementKeyUncertified(system: PaySystem): Promise<void> {
  if (system.keys.isSealed()) return;
  try {
    if ((await system.statementSigner.status()).signingKid) return;
    system.log.warn(
      "no PIN-statement key holds a valid card-network certificate: PIN payments are refused (statement_key_not_certified) until one is installed; see mpay statement-key show and docs/network.md",
    );
  } catch (error) {
    system.log.warn(
      { err: error instanceof Error ? error.name : typeof error },
      "the PIN-statement keys could not be checked",
    );
  }
}
