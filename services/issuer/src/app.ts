/**
 * The issuer host's HTTP face (JSON; one port for every issuer, each under `/issuers/:issuerId/…`):
 * - public: the directory of issuers with their certificates; the witnessed audit heads; the test inbox (simulator
 *   only);
 * - the acquirer link (the pay server, `Authorization: Bearer <acquirer secret>`): enrollment, authorization,
 *   inquiry, capture, void, refunds, unbind, recurring tokens, settlement files, signed audit heads to witness;
 * - the back office (`Authorization: Bearer <operator token>`).
 * A request without the right credential is refused before anything else is read, so it changes nothing.
 *
 * Request logs carry the method, the route pattern (never the path itself: a recurring token travels in one),
 * the issuer, the status and the time; no body, query or header.
 */
import { randomUUID } from "node:crypto";
import Fastify, { LogController, type FastifyInstance } from "fastify";
import { sql } from "drizzle-orm";
import type { IssuerHost } from "./host.ts";
import { requireAcquirer, requireOperator } from "./http/auth.ts";
import { clientErrorAnswer, closingGate, requestForLog } from "@mpay/service-kit";
import { clientErrorBody, errorBody, IssuerApiError, sendError } from "./http/errors.ts";
import { publicRoutes } from "./inbox/routes.ts";
import { enrollmentRoutes } from "./enrollment/routes.ts";
import { authorizationRoutes } from "./authorization/routes.ts";
import { operationRoutes } from "./operations/routes.ts";
import { deviceRoutes } from "./devices/routes.ts";
import { recurringRoutes } from "./recurring/routes.ts";
import { settlementRoutes } from "./settlement/routes.ts";
import { backofficeRoutes } from "./backoffice/routes.ts";
import { witnessPublicRoutes, witnessSubmitRoutes } from "./witness/routes.ts";

/** A JWE of at most 16 KiB (the protocol's limit) plus a passkey assertion fits with room to spare. */
export const BODY_LIMIT_BYTES = 32 * 1024;

export async function buildApp(host: IssuerHost): Promise<FastifyInstance> {
  const app = Fastify({
    // Fastify's own request lines are off (the onResponse line below); any `req` logged has its query redacted.
    loggerInstance: host.log.child({}, { serializers: { req: requestForLog } }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    // The closing gate below answers the issuer's own 503 instead of Fastify's.
    return503OnClosing: false,
    // The shared edge (service-kit's http/edge.ts): what Node's parser refuses, in the issuer's body, then close.
    clientErrorHandler: clientErrorAnswer({ log: host.log, newRequestId: () => randomUUID(), body: clientErrorBody }),
    // A URL that does not decode, or a path parameter past Fastify's limit: the issuer's 400, not Fastify's body.
    frameworkErrors: (error, request, reply) => {
      const known =
        error.code === "FST_ERR_MAX_PARAM_LENGTH" || error.code === "FST_ERR_BAD_URL"
          ? new IssuerApiError("request_invalid", "A path parameter is too long or not valid in a URL.")
          : error;
      // These answers skip the onSend hooks: the request id is set here.
      sendError(request, reply.header("request-id", request.id), known);
    },
  }) as unknown as FastifyInstance;
  // Every answer names its request, as the log line of that request does (`reqId`).
  app.addHook("onSend", async (request, reply) => {
    reply.header("request-id", request.id);
  });
  // A request on a kept-alive connection while the host stops: refused before any credential or work.
  const closing = closingGate(
    () => new IssuerApiError("temporarily_unavailable", "The issuer host is shutting down; retry the request."),
  );
  app.addHook("preClose", closing.preClose);
  app.addHook("onRequest", closing.onRequest);

  app.addHook("onResponse", async (request, reply) => {
    const issuerId = (request.params as Record<string, unknown> | undefined)?.["issuerId"];
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? "(none)",
        issuerId: typeof issuerId === "string" ? issuerId.slice(0, 32) : undefined,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      "request",
    );
  });
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  // Nothing of the request is repeated (its method or URL): an answer never reflects what a caller put there.
  app.setNotFoundHandler((_request, reply) =>
    reply
      .status(404)
      .send(errorBody(new IssuerApiError("route_not_found", "No route matches this method and path at the issuer."))),
  );

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const checks: Record<string, string> = {};
    for (const issuer of host.issuers.values()) {
      checks[issuer.id] = await issuer.db.execute(sql`select 1`).then(
        () => "ok",
        () => "unreachable",
      );
    }
    const ready = Object.values(checks).every((c) => c === "ok");
    return reply.status(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready", checks });
  });

  publicRoutes(app, host);
  witnessPublicRoutes(app, host);

  await app.register(async (acquirer) => {
    acquirer.addHook("onRequest", async (request) => requireAcquirer(request, host.secrets.acquirerSecret));
    enrollmentRoutes(acquirer, host);
    authorizationRoutes(acquirer, host);
    operationRoutes(acquirer, host);
    deviceRoutes(acquirer, host);
    recurringRoutes(acquirer, host);
    settlementRoutes(acquirer, host);
    witnessSubmitRoutes(acquirer, host);
  });

  await app.register(async (operator) => {
    operator.addHook("onRequest", async (request) => requireOperator(request, host.secrets.operatorToken));
    backofficeRoutes(operator, host);
  });

  return app;
}
