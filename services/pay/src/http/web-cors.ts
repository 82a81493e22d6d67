/**
 * CORS for the web app (apps/web: the wallet and the hosted checkout), a separate origin that calls the payer's and
 * the checkout's routes with a bearer token in `Authorization` (issue 9 contract). Exactly that origin, no
 * credentials (no cookie is ever needed), on `/v1/payer/*` and `/v1/checkout/*`. Merchant routes are for
 * the merchant's server, and a browser page must never be able to read their answers, so they get no CORS at all —
 * not even a preflight answer (the preflight route of @fastify/cors answers 404 there) — except to the merchant
 * dashboard (issue 10), which is that same web app calling them with a dashboard user's session (`dashboardCors`).
 */
import type { FastifyCorsOptionsDelegateCallback, FastifyCorsOptions } from "@fastify/cors";
import type { onSendHookHandler } from "fastify";

const CORS_PATHS = /^\/v1\/(payer|checkout)\//;
/** The dashboard's: every other /v1 route but the vault operator's (merchant routes and the dashboard's own). */
const DASHBOARD_PATHS = /^\/v1\/(?!(payer|checkout|vault)(\/|$))/;

export function isDashboardCorsPath(url: string): boolean {
  return DASHBOARD_PATHS.test(url.split("?")[0] ?? "");
}

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
  const dashboard = dashboardCors(webUrl);
  return {
    delegator: (request, callback) =>
      callback(
        null,
        isWebCorsPath(request.url ?? "")
          ? allowed
          : isDashboardCorsPath(request.url ?? "")
            ? dashboard
            : { origin: false },
      ),
  };
}

/**
 * CORS for the merchant dashboard in the web app (issue 10): the /v1 merchant routes and the dashboard's sign-in,
 * called with a dashboard user's session (`mds_…`) and `MPay-Mode`. Only the web app's origin, no credentials
 * (bearer tokens): any other origin gets nothing, so a secret key still cannot be used from someone else's page.
 * The preflight is answered by `webCors`'s route (@fastify/cors allows one `OPTIONS *` per server); the answers
 * themselves get their headers from `dashboardCorsHeaders`.
 */
export function dashboardCors(webUrl: string): FastifyCorsOptions {
  return {
    origin: [new URL(webUrl).origin],
    methods: ["GET", "POST", "DELETE"],
    allowedHeaders: ["authorization", "content-type", "idempotency-key", "mpay-mode"],
    exposedHeaders: ["request-id", "retry-after", "idempotent-replayed"],
    credentials: false,
    maxAge: 600,
    strictPreflight: true,
  };
}

/** An onSend hook that gives the dashboard's answers (errors included) the CORS headers for the web app's origin. */
export function dashboardCorsHeaders(webUrl: string): onSendHookHandler {
  const options = dashboardCors(webUrl);
  const origins = options.origin as string[];
  const exposed = (options.exposedHeaders as string[]).join(", ");
  return async (request, reply, payload) => {
    reply.header("vary", "Origin");
    const origin = request.headers.origin;
    if (origin && origins.includes(origin)) {
      reply.header("access-control-allow-origin", origin);
      reply.header("access-control-expose-headers", exposed);
    }
    return payload;
  };
}
