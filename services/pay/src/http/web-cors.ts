/**
 * CORS for the web app (apps/web: the wallet, the hosted checkout and the merchant dashboard), a separate origin
 * that calls the pay server with a bearer token in `Authorization` (issue 9 contract). Exactly that origin, no
 * credentials (no cookie is ever needed). The payer's and the checkout's routes (`/v1/payer/*`, `/v1/checkout/*`)
 * for the wallet and the checkout; the other /v1 routes for the merchant dashboard (issue 10), which calls the same
 * merchant API as the SDK with a dashboard session (`mds_…`) and `MPay-Mode`. Any other origin gets nothing, and
 * paths outside /v1 (`/openapi.json`, metrics, the vault's routes) get no CORS at all, not even a preflight answer
 * (the preflight route of @fastify/cors answers 404 there). Registered once for the whole app: @fastify/cors adds
 * one `OPTIONS *` route, which two registrations would declare twice.
 */
import type { FastifyCorsOptionsDelegateCallback, FastifyCorsOptions } from "@fastify/cors";

const CORS_PATHS = /^\/v1\/(payer|checkout)\//;

export function isWebCorsPath(url: string): boolean {
  return CORS_PATHS.test(url.split("?")[0] ?? "");
}

/** A merchant API path the dashboard calls (every /v1 path that is not the payer's or the checkout's). */
export function isDashboardCorsPath(url: string): boolean {
  const path = url.split("?")[0] ?? "";
  return path.startsWith("/v1/") && !isWebCorsPath(path);
}

/** The options for @fastify/cors: per request, so that only the web app's paths answer it. */
export function webCors(webUrl: string): { delegator: FastifyCorsOptionsDelegateCallback } {
  const origin = new URL(webUrl).origin;
  const allowed: FastifyCorsOptions = {
    origin: [origin],
    methods: ["GET", "POST", "DELETE"],
    allowedHeaders: ["authorization", "content-type", "idempotency-key"],
    exposedHeaders: ["request-id", "retry-after"],
    credentials: false,
    maxAge: 600,
    strictPreflight: true,
  };
  const dashboard: FastifyCorsOptions = {
    ...allowed,
    allowedHeaders: ["authorization", "content-type", "idempotency-key", "mpay-mode"],
    exposedHeaders: ["request-id", "retry-after", "idempotent-replayed", "mpay-export-truncated"],
  };
  return {
    delegator: (request, callback) => {
      const url = request.url ?? "";
      callback(null, isWebCorsPath(url) ? allowed : isDashboardCorsPath(url) ? dashboard : { origin: false });
    },
  };
}
