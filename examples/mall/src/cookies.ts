/**
 * The cart and the shopper's id live in cookies signed with the shop's own key (HMAC-SHA256): the browser keeps
 * them, cannot change them, and the shop needs no session table. Prices are never in the cookie — only skus and
 * quantities; the catalog prices them at checkout.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface CartLine {
  sku: string;
  quantity: number;
}

export const MAX_QUANTITY = 20;
const MAX_LINES = 30;

export class CookieSigner {
  constructor(private readonly key: Buffer) {}

  /** The cookie's name is signed too: a value signed for one cookie is not believed in another. */
  sign(name: string, value: string): string {
    const encoded = Buffer.from(value, "utf8").toString("base64url");
    return `${encoded}.${this.#mac(name, encoded)}`;
  }

  /** The value, or undefined when the cookie was changed or made elsewhere. */
  verify(name: string, cookie: string | undefined): string | undefined {
    if (!cookie) return undefined;
    const [encoded, mac] = cookie.split(".");
    if (!encoded || !mac) return undefined;
    const expected = Buffer.from(this.#mac(name, encoded));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return Buffer.from(encoded, "base64url").toString("utf8");
  }

  #mac(name: string, encoded: string): string {
    return createHmac("sha256", this.key).update(`${name}=${encoded}`).digest("base64url");
  }
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at <= 0) continue;
    try {
      cookies[part.slice(0, at).trim()] = decodeURIComponent(part.slice(at + 1).trim());
    } catch {
      // A malformed value (a stray %) is no cookie of ours.
    }
  }
  return cookies;
}

export function setCookie(name: string, value: string, maxAgeSeconds = 30 * 24 * 3600): string {
  return `${name}=${encodeURIComponent(value)}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax`;
}

export function decodeCart(json: string | undefined): CartLine[] {
  if (!json) return [];
  try {
    const parsed: unknown = JSON.parse(json);
    if (!Array.isArray(parsed)) return [];
    return parsed
      .filter(
        (line): line is CartLine =>
          typeof line?.sku === "string" &&
          Number.isInteger(line?.quantity) &&
          line.quantity > 0 &&
          line.quantity <= MAX_QUANTITY,
      )
      .slice(0, MAX_LINES);
  } catch {
    return [];
  }
}

/** Adds (or, with `set`, replaces) a line's quantity; 0 removes it. */
export function changeCart(cart: CartLine[], sku: string, quantity: number, mode: "add" | "set"): CartLine[] {
  const current = cart.find((line) => line.sku === sku)?.quantity ?? 0;
  const next = Math.max(0, Math.min(MAX_QUANTITY, mode === "add" ? current + quantity : quantity));
  const others = cart.filter((line) => line.sku !== sku);
  if (next === 0) return others;
  return current === 0
    ? [...others, { sku, quantity: next }]
    : cart.map((l) => (l.sku === sku ? { sku, quantity: next } : l));
}

export function newShopperId(): string {
  return `shp_${randomBytes(12).toString("hex")}`;
}
