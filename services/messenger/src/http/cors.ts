/**
 * CORS for the web app (issue 9): the messenger UI runs on its own origin (`MPAY_WEB_URL`) and calls the app API
 * with a bearer token, so the API answers CORS for exactly that origin, without credentials (no cookies are
 * involved), for the methods and headers the app uses. Everything else gets no CORS headers, so a browser on any
 * other site cannot read an answer: the official accounts' sender route (server to server), the provider's
 * pages, and every origin but the web app's.
 */
import type { FastifyRequest } from "fastify";
import type { FastifyCorsOptions } from "@fastify/cors";

/** Whether a path is part of the app API the web app calls. */
export function isAppApiPath(url: string): boolean {
  const path = url.split("?")[0] ?? "";
  return path.startsWith("/api/") && !path.startsWith("/api/official/");
}

export function corsOptionsFor(request: FastifyRequest, webOrigin: string): FastifyCorsOptions {
  if (!isAppApiPath(request.url) || request.headers.origin !== webOrigin) return { origin: false };
  return {
    origin: webOrigin,
    credentials: false,
    methods: ["GET", "POST", "DELETE"],
    allowedHeaders: ["authorization", "content-type", "idempotency-key"],
    // Retry-After tells the app when a limited request may be sent again.
    exposedHeaders: ["retry-after"],
    maxAge: 600,
  };
}
