/**
 * The payer's session on the payer scope's routes (app.ts), read once, before anything else of the request:
 * an onRequest hook on every route of the scope resolves `Authorization: Bearer pst_…` to `request.payer`, so a
 * caller without a session gets 401 payer_session_invalid before its body or parameters are validated (a 400
 * would tell an unknown caller what the body should look like). A route is authenticated unless it declares
 * `config: { public: true }` (the sign-in steps, the hosted checkout, the statement key): a new route forgotten
 * there fails closed. Issue 12, the authorization matrix (http/authorization-matrix.ts).
 */
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import type { PayerService } from "./service.ts";
import type { PayerRow } from "./store.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Payer scope: no payer session is read (payers/session.ts). Other scopes have their own authentication. */
    public?: boolean;
  }
  interface FastifyRequest {
    /** The session's payer, on a payer-scope route that is not public. */
    payer?: PayerRow;
  }
}

/**
 * Adds the session hook to each route registered on `app` from now on (call it before the scope's routes). The
 * hook is the route's own, after those added before (the per-address rate limit), so a flood of guessed sessions is
 * limited like any other request.
 */
export function requirePayerSession(app: FastifyInstance, payers: PayerService): void {
  const authenticate: onRequestAsyncHookHandler = async (request) => {
    request.payer = await payers.authenticate(request.headers.authorization);
  };
  app.addHook("onRoute", (route) => {
    if (route.config?.public === true) return;
    const own = route.onRequest;
    route.onRequest = [...(own === undefined ? [] : Array.isArray(own) ? own : [own]), authenticate];
  });
}

/** The payer whose session the scope's hook read; a route without the hook is a wiring bug, not a 401. */
export function payerOf(request: FastifyRequest): PayerRow {
  if (!request.payer) throw new Error(`${request.routeOptions.url} ran without the payer session hook`);
  return request.payer;
}
