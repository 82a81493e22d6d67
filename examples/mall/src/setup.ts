/** What the shop makes sure of at start: its webhook endpoint at MPay, and the key that signs its cookies. */
import { createHash, randomBytes } from "node:crypto";
import { type MPay, NotFoundError } from "@mpay/merchant";
import type { OrderStore } from "./orders.ts";

/** The events the shop acts on (orders.ts). */
export const MALL_EVENTS = [
  "payment.authorized",
  "payment.captured",
  "payment.canceled",
  "payment.declined",
  "payment.expired",
  "refund.succeeded",
] as const;

interface SavedEndpoint {
  id: string;
  url: string;
  /** The endpoint's own whsec_ secret, when MPay answered one at creation. */
  secret: string | null;
}

/**
 * The shop's webhook endpoint exists once per merchant account and URL: made through the SDK on the first start,
 * remembered in the shop's database (with its secret, which MPay shows only at creation) and reused afterwards, so
 * restarts do not pile up endpoints that would each receive every event.
 */
export async function ensureWebhookEndpoint(
  mpay: MPay,
  store: OrderStore,
  options: { url: string; secretKey: string },
): Promise<SavedEndpoint> {
  // Per merchant account: a shop pointed at another account (or a fresh pay server) registers anew.
  const account = createHash("sha256").update(options.secretKey).digest("hex").slice(0, 16);
  const key = `webhook_endpoint:${account}`;
  const saved = await store.setting(key);
  if (saved) {
    const endpoint = JSON.parse(saved) as SavedEndpoint;
    // Still there and enabled (someone may have disabled it in the dashboard): keep it; else make a new one.
    if (endpoint.url === options.url && (await stillEnabled(mpay, endpoint.id))) return endpoint;
  }
  const created = await mpay.webhookEndpoints.create({ url: options.url, enabledEvents: [...MALL_EVENTS] });
  const secret = (created as { secret?: unknown }).secret;
  const endpoint: SavedEndpoint = {
    id: created.id,
    url: options.url,
    secret: typeof secret === "string" ? secret : null,
  };
  await store.saveSetting(key, JSON.stringify(endpoint));
  return endpoint;
}

async function stillEnabled(mpay: MPay, endpointId: string): Promise<boolean> {
  try {
    return (await mpay.webhookEndpoints.retrieve(endpointId)).status === "enabled";
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}

/** MALL_COOKIE_SECRET, else a random key made on the first start and kept in the shop's database. */
export async function cookieKey(store: OrderStore, configured: string | undefined): Promise<Buffer> {
  if (configured) return createHash("sha256").update(configured).digest();
  const saved = await store.setting("cookie_key");
  if (saved) return Buffer.from(saved, "base64");
  const key = randomBytes(32);
  await store.saveSetting("cookie_key", key.toString("base64"));
  return key;
}
