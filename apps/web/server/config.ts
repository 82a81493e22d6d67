/**
 * The web server's configuration, from the same variables as every MPay process (service-kit's systemAddresses):
 * it listens on MPAY_WEB_URL's port (4300 by default; WEB_PORT overrides, e.g. behind a proxy whose public URL is
 * on 443) at WEB_HOST (127.0.0.1), and tells the app where the pay server and the messenger are.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { envPort, systemAddresses, urlPort, type Env } from "@mpay/service-kit/config";

export interface WebServerConfig {
  host: string;
  port: number;
  /** The Vite production build. */
  distDir: string;
  /** The card-network roots file the wallet trusts (a JSON array of root public keys). */
  trustedRootsFile: string;
  webUrl: string;
  payUrl: string;
  messengerUrl: string;
  /** The messenger's WebSocket (`/api/ws` on its port, ws: or wss: as its URL is http: or https:). */
  messengerWsUrl: string;
}

export const DEFAULT_DIST_DIR = fileURLToPath(new URL("../dist", import.meta.url));

/** `http://m.example:4200` → `ws://m.example:4200/api/ws`. */
export function messengerSocketUrl(messengerUrl: string): string {
  const url = new URL("/api/ws", messengerUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

export function loadWebServerConfig(env: Env = process.env): WebServerConfig {
  const { urls } = systemAddresses(env);
  const networkDir = resolve(env["MPAY_NETWORK_DIR"] || ".data/network");
  return {
    host: env["WEB_HOST"] || "127.0.0.1",
    port: envPort(env, "WEB_PORT", urlPort(new URL(urls.web))),
    distDir: DEFAULT_DIST_DIR,
    // The same file `npm run demo` reads: the demo network's root that `npm start` made on this machine.
    trustedRootsFile: resolve(env["MPAY_WEB_TRUSTED_ROOTS_FILE"] || `${networkDir}/demo-roots.json`),
    webUrl: urls.web,
    payUrl: urls.pay,
    messengerUrl: urls.messenger,
    messengerWsUrl: messengerSocketUrl(urls.messenger),
  };
}
