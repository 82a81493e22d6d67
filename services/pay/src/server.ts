/**
 * Starts the pay server: opens the system, serves HTTP, runs the workers, and shuts down gracefully on SIGTERM or
 * SIGINT (stop accepting, finish in-flight requests, stop workers, close the database).
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
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

/** `options.log`: the server's logger (default: the configured level, on stdout), for a caller that keeps its lines. */
export async function startPayServer(
  config: PayConfig = loadConfig(),
  options: { log?: Logger } = {},
): Promise<RunningPayServer> {
  const system = await openPaySystem(config, options.log);
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
    await writeSecretFile(file, keys);
    // The secrets stay in the file (mode 0600): a terminal's output ends up in scroll-back, CI logs and process
    // managers' logs. Only where they are and what is not secret is printed.
    const who = demo.name === "Demo Mall" ? "Demo merchant" : `Demo merchant ${demo.name}`;
    process.stdout.write(
      `\n${who} created (test mode): ${keys.id}, publishable key ${keys.publishableKey}; its secret key and webhook secret are in ${file}\n\n`,
    );
  }
}

export const DEMO_OWNER_EMAIL = "owner@demo-mall.test";
export const DEMO_STAFF_EMAIL = "admin@mpay.test";
/** The demo people's credentials, beside the demo merchants' key files but apart from them (issue 10). */
export const DEMO_USERS_FILE = "demo-users.json";

/** One demo person's sign-in: what `npm start`'s Try-it block and `npm run demo -- totp` read (scripts/demo). */
export interface DemoSignIn {
  email: string;
  password: string;
  totpSecret: string;
}

/**
 * `<dataDir>/demo-users.json` (mode 0600): the demo merchant's dashboard owner as `dashboard`, the demo operator
 * as `console`. Other tools read this shape (scripts/demo, the browser tests): keep it.
 */
export interface DemoUsers {
  dashboard?: DemoSignIn;
  console?: DemoSignIn;
}

async function readJsonObject(file: string): Promise<Record<string, unknown> | null> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function isDemoSignIn(value: unknown): value is DemoSignIn {
  const v = value as Partial<Record<keyof DemoSignIn, unknown>> | null | undefined;
  return typeof v?.email === "string" && typeof v.password === "string" && typeof v.totpSecret === "string";
}

async function readDemoUsers(dataDir: string): Promise<DemoUsers> {
  const json = (await readJsonObject(join(dataDir, DEMO_USERS_FILE))) ?? {};
  return {
    ...(isDemoSignIn(json["dashboard"]) ? { dashboard: json["dashboard"] } : {}),
    ...(isDemoSignIn(json["console"]) ? { console: json["console"] } : {}),
  };
}

/**
 * Writes a file of secrets whole or not at all: a temporary file made with mode 0600, then renamed over the old one,
 * so a reader (the demo mall, `npm run demo`) never sees half a file and the secrets are never world-readable.
 */
async function writeSecretFile(file: string, value: unknown): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, JSON.stringify(value, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function addDemoUser(dataDir: string, role: keyof DemoUsers, signIn: DemoSignIn): Promise<string> {
  const file = join(dataDir, DEMO_USERS_FILE);
  await writeSecretFile(file, { ...(await readJsonObject(file)), [role]: signIn });
  return file;
}

/**
 * Before demo-users.json, the owner's password and seed were written into demo-merchant.json as `dashboard`, a file
 * the demo mall reads for its keys: a data folder made then has them moved out (copied first, then removed, so a
 * crash between leaves them in both places and the next start finishes the move).
 */
async function moveOwnerOutOfMerchantFile(dataDir: string): Promise<void> {
  const merchantFile = join(dataDir, DEMO_MERCHANTS[0].file);
  const merchant = await readJsonObject(merchantFile);
  if (!merchant || !("dashboard" in merchant)) return;
  const { dashboard, ...keys } = merchant;
  if (isDemoSignIn(dashboard) && !(await readDemoUsers(dataDir)).dashboard)
    await addDemoUser(dataDir, "dashboard", dashboard);
  await writeSecretFile(merchantFile, keys);
}

/** A random demo password, and a TOTP seed already set up so that `npm run demo -- totp` gives its codes. */
function demoCredentials(): { password: string; totpSecret: string } {
  return { password: randomBytes(12).toString("base64url"), totpSecret: newTotpSecret() };
}

/**
 * The demo merchant's dashboard owner (issue 10): made once, beside the demo merchant, with a random password and a
 * TOTP seed already set up, both kept in demo-users.json (mode 0600) as `dashboard`, not in the demo merchant's key
 * file, which the demo mall reads. Only the file's name is printed; `npm run demo -- totp` prints the current code.
 * This method needs to be idempotent: it runs on every start.
 */
export async function ensureDemoOwner(system: PaySystem): Promise<void> {
  if (system.config.databaseUrl || system.keys.isSealed()) return;
  const { dataDir } = system.config;
  await moveOwnerOutOfMerchantFile(dataDir);
  const merchant = await readJsonObject(join(dataDir, DEMO_MERCHANTS[0].file));
  if (typeof merchant?.["id"] !== "string") return; // no demo merchant on this data folder
  if ((await readDemoUsers(dataDir)).dashboard || (await system.merchantUsers.findByEmail(DEMO_OWNER_EMAIL))) return;
  const { password, totpSecret } = demoCredentials();
  const { user } = await system.merchantUsers.create({
    merchantId: merchant["id"],
    email: DEMO_OWNER_EMAIL,
    name: "Demo Owner",
    role: "owner",
    actor: "system:first-start",
    password: new Secret(password),
  });
  await system.merchantUsers.setTotpSecret(user.id, new Secret(totpSecret));
  const file = await addDemoUser(dataDir, "dashboard", { email: DEMO_OWNER_EMAIL, password, totpSecret });
  process.stdout.write(
    `Demo dashboard owner ${DEMO_OWNER_EMAIL}: password and TOTP secret are in ${file} (npm run demo -- totp prints the current code)\n\n`,
  );
}

/**
 * The operator console's demo admin (issue 10): made once on a demo data folder (one with the demo merchant), on the
 * same terms as the demo owner, kept in demo-users.json as `console`. An operator's own staff are made with
 * `mpay staff add`; a staff member already holding the demo email is left alone.
 * This method needs to be idempotent: it runs on every start.
 */
export async function ensureDemoStaff(system: PaySystem): Promise<void> {
  if (system.config.databaseUrl || system.keys.isSealed()) return;
  const { dataDir } = system.config;
  const merchant = await readJsonObject(join(dataDir, DEMO_MERCHANTS[0].file));
  if (typeof merchant?.["id"] !== "string") return; // not a demo data folder
  if ((await readDemoUsers(dataDir)).console || (await system.staff.findByEmail(DEMO_STAFF_EMAIL))) return;
  const { password, totpSecret } = demoCredentials();
  const { staff } = await system.staff.create({
    email: DEMO_STAFF_EMAIL,
    name: "Demo Operator",
    role: "admin",
    actor: "system:first-start",
    password: new Secret(password),
  });
  await system.staff.setTotpSecret(staff.id, new Secret(totpSecret));
  const file = await addDemoUser(dataDir, "console", { email: DEMO_STAFF_EMAIL, password, totpSecret });
  process.stdout.write(
    `Demo console admin ${DEMO_STAFF_EMAIL}: password and TOTP secret are in ${file} (npm run demo -- totp prints the current code)\n\n`,
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
