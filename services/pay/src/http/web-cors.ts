/**
 * CORS for the web app (apps/web: the wallet and the hosted checkout), a separate origin that calls the payer's and
 * the checkout's routes with a bearer token in `Authorization` (issue 9 contract). Exactly that origin, no
 * credentials (no cookie is ever needed), and only on `/v1/payer/*` and `/v1/checkout/*`: merchant routes are for
 * the merchant's server, and a browser page must never be able to read their answers, so they get no CORS at all —
 * not even a preflight answer (the preflight route of @fastify/cors answers 404 there).
 */
import type { FastifyCorsOptionsDelegateCallback, FastifyCorsOptions } from "@fastify/cors";

const CORS_PATHS = /^\/v1\/(payer|checkout)\//;

export function isWebCorsPath(url: string): boolean {
  return CORS_PATHS.test(url.split("?")[0] ?? "");
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
  return {
    delegator: (request, callback) => callback(null, isWebCorsPath(request.url ?? "") ? allowed : { origin: false }),
  };
}
