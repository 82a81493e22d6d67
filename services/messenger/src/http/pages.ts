/**
 * Sending pages and guarding their forms, shared by every part that serves HTML (sign-up, sign-in, the provider's
 * own errors, the app's error handlers), so none of them imports another for it.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { html, page, type Page } from "./html.ts";

export function sendPage(reply: FastifyReply, page: Page): FastifyReply {
  return reply.status(page.status).headers(page.headers).send(page.body);
}

export function errorPage(title: string, message: string, status = 400): Page {
  return page(title, html`<h1>${title}</h1><p class="error" role="alert">${message}</p>`, status);
}

/**
 * A browser POST from another origin (including the opaque "null") is refused; a request without Origin (not a
 * browser, or an old one) still has to carry the interaction's cookie, which SameSite=Lax keeps off cross-site POSTs.
 */
export function foreignOrigin(request: FastifyRequest, issuer: string): boolean {
  const origin = request.headers.origin;
  return origin !== undefined && origin !== new URL(issuer).origin;
}
