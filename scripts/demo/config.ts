/**
 * Where the running system is, for `npm run demo`: computed from the environment by the same function as the
 * services and `npm start` use (service-kit's systemAddresses), so `PAY_PORT=5000 npm start` pairs with
 * `PAY_PORT=5000 npm run demo`, and a port no fetch can reach is told as such, not as "MPay is not running".
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import type { NetworkRoot } from "@mpay/crypto";
import { networkRootsFileSchema } from "@mpay/protocol";
import { ConfigError, systemUrls } from "@mpay/service-kit/config";

export interface DemoConfig {
  payUrl: string;
  issuerUrl: string;
  messengerUrl: string;
  /** The web app: hosted checkout (`/checkout/:id`), the messenger (`/`) and the wallet (`/wallet`). */
  webUrl: string;
  /** The pay server's data folder: `demo-merchant.json` is there. */
  payDataDir: string;
  /** The issuer host's data folder: `operator.json` (the back office's token) is there. */
  issuerDataDir: string;
  /** This demo's own folder: one key store per run (the payer's "device"). */
  demoDir: string;
  /** The demo card network's folder (`npm start` makes it): `demo-roots.json` is the wallet's only root. */
  networkDir: string;
  /** The demo merchant's registered origin: its returnUrl and cancelUrl must be on it. */
  shopOrigin: string;
}

const trimmed = (url: string) => url.replace(/\/+$/, "");

export function loadDemoConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  let urls: ReturnType<typeof systemUrls>;
  try {
    urls = systemUrls(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new DemoError(`${error.message} (npm start refuses it too)`);
    throw error;
  }
  return {
    payUrl: urls.pay,
    issuerUrl: urls.issuer,
    messengerUrl: urls.messenger,
    webUrl: urls.web,
    payDataDir: resolve(env["MPAY_DATA_DIR"] || ".data/pay"),
    issuerDataDir: resolve(env["ISSUER_DATA_DIR"] || ".data/issuer"),
    demoDir: resolve(env["MPAY_DEMO_DIR"] || ".data/demo"),
    networkDir: resolve(env["MPAY_NETWORK_DIR"] || ".data/network"),
    // ensureDemoMerchant (services/pay/src/server.ts) registers this origin, where examples/mall runs.
    shopOrigin: trimmed(env["MPAY_DEMO_SHOP_ORIGIN"] || "http://127.0.0.1:4400"),
  };
}

/** A problem the newcomer can fix, told in one line (no stack trace). */
export class DemoError extends Error {
  override readonly name = "DemoError";
}

const demoMerchantSchema = z.object({ id: z.string(), secretKey: z.string().startsWith("sk_") });
const operatorFileSchema = z.object({ token: z.string().min(32) });

async function readJson<T>(file: string, schema: z.ZodType<T>, missing: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new DemoError(missing);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new DemoError(`${file} is not in the expected shape; delete the data folder and start again with npm start`);
  return parsed.data;
}

/** Where the pay server saved the demo merchant's keys (mode 0600) on its first start. */
export function demoMerchantFile(config: Pick<DemoConfig, "payDataDir">): string {
  return join(config.payDataDir, "demo-merchant.json");
}

/**
 * Where the pay server saved the demo people's sign-ins (mode 0600) on its first start: the demo merchant's dashboard
 * owner as `dashboard`, the operator console's demo admin as `console` (services/pay/src/server.ts, DemoUsers).
 */
export function demoUsersFile(config: Pick<DemoConfig, "payDataDir">): string {
  return join(config.payDataDir, "demo-users.json");
}

const demoSignInSchema = z.object({ email: z.string(), password: z.string(), totpSecret: z.string() });
export type DemoSignIn = z.infer<typeof demoSignInSchema>;
/** demo-users.json: either person may be missing (an operator's database has neither). */
export interface DemoUsers {
  dashboard?: DemoSignIn;
  console?: DemoSignIn;
}

/** The demo people's sign-ins: each one that is in the file in its shape (none when there is no file). */
export async function readDemoUsers(config: Pick<DemoConfig, "payDataDir">): Promise<DemoUsers> {
  type Shape = { dashboard?: unknown; console?: unknown } | null;
  let json: Shape;
  try {
    json = JSON.parse(await readFile(demoUsersFile(config), "utf8")) as Shape;
  } catch {
    return {};
  }
  const dashboard = demoSignInSchema.safeParse(json?.dashboard);
  const console = demoSignInSchema.safeParse(json?.console);
  return {
    ...(dashboard.success ? { dashboard: dashboard.data } : {}),
    ...(console.success ? { console: console.data } : {}),
  };
}

/** The demo merchant's id and secret key, as the pay server wrote them on its first start (embedded database). */
export function readDemoMerchant(config: DemoConfig): Promise<{ id: string; secretKey: string }> {
  const file = demoMerchantFile(config);
  return readJson(
    file,
    demoMerchantSchema,
    `no demo merchant at ${file}: the pay server writes it on its first start on the embedded database (npm start)`,
  );
}

/** The issuer back office's bearer token: ISSUER_OPERATOR_TOKEN, else the file the issuer host made. */
export async function readOperatorToken(config: DemoConfig, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const fromEnv = env["ISSUER_OPERATOR_TOKEN"];
  if (fromEnv) return fromEnv;
  const file = join(config.issuerDataDir, "operator.json");
  return (
    await readJson(
      file,
      operatorFileSchema,
      `no issuer operator token at ${file}: the issuer host writes it on its first start (npm start)`,
    )
  ).token;
}

/**
 * The roots the demo wallet trusts: the demo network's root that `npm start` made on this machine, and nothing else
 * (never the committed test roots, whose private keys anyone can read: issue 7, hole 2).
 */
export function readDemoRoots(config: DemoConfig): Promise<readonly NetworkRoot[]> {
  const file = join(config.networkDir, "demo-roots.json");
  return readJson(
    file,
    networkRootsFileSchema,
    `no demo network root at ${file}: npm start makes it on its first start`,
  );
}
