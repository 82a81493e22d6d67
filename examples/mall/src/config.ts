/**
 * The shop's settings, all from the environment:
 *
 * | variable | default | meaning |
 * | MALL_BRAND | demo-mall | which shop: demo-mall or tea-house (src/brands.ts) |
 * | MALL_PORT / MALL_HOST | the brand's (4400, 4401) / 127.0.0.1 | where it listens |
 * | MALL_PUBLIC_URL | http://127.0.0.1:<port> | its URL for browsers and MPay: return URLs and the webhook URL |
 * | MALL_MPAY_URL | http://127.0.0.1:4000 | the MPay API |
 * | MALL_SECRET_KEY | — | the merchant's secret key (sk_test_…) |
 * | MALL_WEBHOOK_SECRET | — | the merchant's whsec_ secret, when its endpoint's own secret is not answered |
 * | MALL_KEYS_FILE | — | instead of the two above: a JSON file { secretKey, webhookSecret? } (npm start: the pay server's demo merchant file) |
 * | MALL_DATABASE_URL | — | PostgreSQL; else PGlite in MALL_DATA_DIR |
 * | MALL_DATA_DIR | .data/mall/<brand> | the PGlite folder |
 * | MALL_COOKIE_SECRET | generated once, kept in the database | signs the cart and shopper cookies |
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type Brand, brandById } from "./brands.ts";

export interface MallConfig {
  brand: Brand;
  host: string;
  port: number;
  publicUrl: string;
  mpayUrl: string;
  secretKey: string;
  /** The merchant's own whsec_, tried beside the endpoint's secret. */
  webhookSecret: string | undefined;
  databaseUrl: string | undefined;
  dataDir: string;
  cookieSecret: string | undefined;
}

export class MallConfigError extends Error {
  override readonly name = "MallConfigError";
}

export async function loadMallConfig(env: NodeJS.ProcessEnv = process.env): Promise<MallConfig> {
  const brand = brandById(env["MALL_BRAND"] || "demo-mall");
  const port = Number(env["MALL_PORT"] || brand.defaultPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new MallConfigError("MALL_PORT: not a port number");
  const host = env["MALL_HOST"] || "127.0.0.1";
  let secretKey = env["MALL_SECRET_KEY"];
  let webhookSecret = env["MALL_WEBHOOK_SECRET"] || undefined;
  const keysFile = env["MALL_KEYS_FILE"];
  if (!secretKey && keysFile) {
    let keys: { secretKey?: unknown; webhookSecret?: unknown };
    try {
      keys = JSON.parse(await readFile(keysFile, "utf8")) as typeof keys;
    } catch {
      throw new MallConfigError(`MALL_KEYS_FILE: ${keysFile} cannot be read as JSON`);
    }
    if (typeof keys.secretKey === "string") secretKey = keys.secretKey;
    if (!webhookSecret && typeof keys.webhookSecret === "string") webhookSecret = keys.webhookSecret;
  }
  // Named, never shown: the key is a secret.
  if (!secretKey?.startsWith("sk_"))
    throw new MallConfigError("MALL_SECRET_KEY (or MALL_KEYS_FILE): the merchant's secret key sk_… is missing");
  return {
    brand,
    host,
    port,
    publicUrl: (env["MALL_PUBLIC_URL"] || `http://127.0.0.1:${port}`).replace(/\/+$/, ""),
    mpayUrl: (env["MALL_MPAY_URL"] || "http://127.0.0.1:4000").replace(/\/+$/, ""),
    secretKey,
    webhookSecret,
    databaseUrl: env["MALL_DATABASE_URL"] || undefined,
    dataDir: resolve(env["MALL_DATA_DIR"] || `.data/mall/${brand.id}`),
    cookieSecret: env["MALL_COOKIE_SECRET"] || undefined,
  };
}
