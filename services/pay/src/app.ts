/**
 * The pay server's HTTP face: Fastify with zod schemas (validation and the OpenAPI document come from the same
 * schemas), merchant authentication on /v1, one error handler, health, readiness and Prometheus metrics.
 */
import Fastify, { type FastifyInstance } from "fastify";
import cors from "@fastify/cors";
import swagger from "@fastify/swagger";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { sql } from "drizzle-orm";
import { Registry, collectDefaultMetrics, Histogram } from "prom-client";
import { registerIssuerBreakerGauge } from "./issuers/metrics.ts";
import { registerOutboxGauges } from "./webhooks/events-relay-metrics.ts";
import { newId } from "@mpay/protocol";
import type { PaySystem } from "./system.ts";
import { clientErrorAnswer, closingGate, requestForLog } from "@mpay/service-kit";
import { ApiError, clientErrorBody, errorBody, sendError } from "./http/errors.ts";
import { openApiTransforms } from "./http/openapi.ts";
import { WEBHOOK_EVENTS, apiSchemas } from "./openapi-schemas.ts";
import { paymentRoutes } from "./payments/routes.ts";
import { refundRoutes } from "./refunds/routes.ts";
import { webhookRoutes } from "./webhooks/routes.ts";
import { merchantRoutes } from "./merchants/routes.ts";
import { payerRoutes } from "./payers/routes.ts";
import { requirePayerSession } from "./payers/session.ts";
import { deviceRoutes } from "./devices/routes.ts";
import { pinRoutes } from "./pin/routes.ts";
import { approvalRoutes } from "./approvals/routes.ts";
import { passkeyRoutes } from "./passkeys/routes.ts";
import { vaultRoutes } from "./operator/vault-routes.ts";
import { auditRoutes } from "./audit/routes.ts";
import { cardRoutes } from "./vault/routes.ts";
import { recoveryRoutes } from "./recovery/routes.ts";
import { authorizationRoutes } from "./authorizations/routes.ts";
import { mandateMerchantRoutes, mandatePayerRoutes } from "./mandates/routes.ts";
import { dashboardCorsHeaders, webCors } from "./http/web-cors.ts";
import { dashboardRoutes, dashboardSignInRoutes } from "./merchant-users/routes.ts";
import { authenticateStaff, staffRoutes, staffSignInRoutes } from "./staff/routes.ts";
import { authorizeRoute, classifyRoute } from "./merchant-users/permissions.ts";
import { checkoutRoutes } from "./checkout/routes.ts";
import { receiptRoutes } from "./receipts/routes.ts";
import { merchantScriptRoutes } from "./http/merchant-script.ts";
import { reportRoutes } from "./reports/routes.ts";
import { ReportService } from "./reports/service.ts";
import { apiLimits } from "./http/rate-limits.ts";
import { openSharedState } from "./cluster-redis.ts";
import { keyNewsWithoutRedis } from "./cluster-postgres.ts";
import { workerProcessHeader } from "./cluster.ts";
import { metricsSource, processMetricLabels } from "./cluster-metrics.ts";

export const BODY_LIMIT_BYTES = 16 * 1024;

declare module "fastify" {
  interface FastifyInstance {
    /** `METHOD /pattern` of every route in the /v1 merchant scope, as permissions.ts classified them. */
    merchantRouteKeys: readonly string[];
  }
}

export async function buildApp(system: PaySystem): Promise<FastifyInstance> {
  // Typed as a plain FastifyInstance: pino's Logger type is wider than Fastify's default logger type.
  const app = Fastify({
    // Request lines log the path with the query string's values replaced (service-kit's http/edge.ts).
    loggerInstance: system.log.child({}, { serializers: { req: requestForLog } }),
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => newId("request"),
    requestIdHeader: false,
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    // Fastify's own 503 while closing has its own body; the onRequest hook below answers MPay's instead.
    return503OnClosing: false,
    // What Node's parser refuses before Fastify sees a request (431, bad framing): MPay's error body, then close.
    clientErrorHandler: clientErrorAnswer({
      log: system.log,
      newRequestId: () => newId("request"),
      body: clientErrorBody,
    }),
    // A path parameter longer than Fastify's limit (100 characters, far past any MPay id) and a URL that does not
    // decode are MPay's own 400s, not Fastify's 414 and 400 bodies of another shape.
    frameworkErrors: (error, request, reply) => {
      const apiError =
        error.code === "FST_ERR_MAX_PARAM_LENGTH" || error.code === "FST_ERR_BAD_URL"
          ? new ApiError("parameter_invalid", "A path parameter is too long or not valid in a URL.")
          : error;
      // These answers skip the onSend hooks: the request id is set here.
      sendError(request, reply.header("request-id", request.id), apiError);
    },
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook("onSend", async (request, reply) => {
    reply.header("request-id", request.id);
  });
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  // Requests that still arrive on a kept-alive connection while the server stops: MPay's 503 (service-kit's edge).
  const closing = closingGate(
    () => new ApiError("server_shutting_down", "This MPay server is shutting down; retry the request."),
  );
  app.addHook("preClose", closing.preClose);
  app.addHook("onRequest", closing.onRequest);
  // The message never repeats the URL: an answer must not reflect what a caller (or a crafted link) put there.
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(
        errorBody(
          new ApiError("route_not_found", "No route matches this method and path; the routes are in /openapi.json."),
          request.id,
        ),
      ),
  );

  // OpenAPI 3.1: its `webhooks` describe what MPay sends, and zod's schemas map to JSON Schema 2020-12 as they are
  // (`type: ["string", "null"]`, no 3.0 `nullable`).
  const { transform, transformObject } = openApiTransforms(apiSchemas, WEBHOOK_EVENTS);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "MPay merchant API",
        version: "1.0.0",
        description: "Payments, refunds, events and webhooks. Authenticate with `Authorization: Bearer sk_test_…`.",
      },
      servers: [{ url: system.config.publicUrl }],
      components: {
        securitySchemes: {
          secretKey: {
            type: "http",
            scheme: "bearer",
            description: "The merchant's secret key, `sk_test_…` or `sk_live_…`.",
          },
          payerSession: {
            type: "http",
            scheme: "bearer",
            description: "The payer's session, `pst_…`, from `POST /v1/payer/auth/exchange`: the wallet's routes.",
          },
        },
      },
      security: [{ secretKey: [] }],
    },
    transform,
    transformObject,
  });

  const registry = new Registry();
  // In a cluster each worker's process metrics keep their own series (`worker` label); the rest are merged.
  collectDefaultMetrics({ register: registry, labels: processMetricLabels() });
  const duration = new Histogram({
    name: "mpay_http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  registerIssuerBreakerGauge(registry, system.issuers);
  // Redis when REDIS_URL is set (the limits' counters, merchant-key invalidations), else per process in memory;
  // a cluster without Redis still hears of key changes at once, through PostgreSQL (cluster-postgres.ts).
  const { cluster: processes, databaseUrl } = system.config;
  const shared = openSharedState(processes, system.log, keyNewsWithoutRedis(processes, databaseUrl, system.log));
  app.addHook("onClose", () => shared.close());
  system.merchants.onKeysChanged(() => shared.publishKeysChanged());
  shared.onKeysChanged(() => system.merchants.forgetCachedKeys());
  const limits = apiLimits({ perMinute: system.config.rateLimitPerMinute, shared, registry });
  workerProcessHeader(app);
  registerOutboxGauges(registry, system.eventsRelay, system.webhooks);
  app.addHook("onResponse", async (request, reply) => {
    duration.observe(
      { method: request.method, route: request.routeOptions.url ?? "unmatched", status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));
  app.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    const checks = { database: "ok", keyProvider: system.keys.isSealed() ? "sealed" : "ok" };
    try {
      await system.database.db.execute(sql`select 1`);
    } catch {
      checks.database = "unreachable";
    }
    const ready = checks.database === "ok" && checks.keyProvider === "ok";
    return reply.status(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready", checks });
  });
  // One process: its registry. A cluster worker: every worker's, merged by the primary (cluster-metrics.ts).
  const metrics = metricsSource(registry, system.log);
  app.addHook("onClose", async () => metrics.close());
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  const merchantRouteKeys: string[] = [];
  app.decorate("merchantRouteKeys", merchantRouteKeys);
  await app.register(async (v1) => {
    // Every merchant route says which dashboard role may call it, or the app does not start (permissions.ts).
    v1.addHook("onRoute", (route) => void merchantRouteKeys.push(...classifyRoute(route.method, route.url)));
    // The dashboard (apps/web, its own origin) calls these routes with a user's session: CORS for that origin only.
    v1.addHook("onSend", dashboardCorsHeaders(system.config.checkoutBaseUrl));
    // Authenticate before the rate limit so the limit is per merchant key, not per load balancer address. A secret
    // key or a dashboard user's session (`mds_…`, in the mode `MPay-Mode` names); a user's role must allow the route.
    v1.addHook("onRequest", async (request) => {
      if (request.method === "OPTIONS") return;
      request.merchantAuth = await system.merchants.authenticate(
        request.headers.authorization,
        "secret",
        request.headers["mpay-mode"],
      );
      authorizeRoute(request.method, request.routeOptions.url, request.merchantAuth);
    });
    await limits.register(v1, "v1", (request) => request.merchantAuth?.keyId ?? request.ip);
    paymentRoutes(
      v1,
      system.database.db,
      system.payments,
      (tx, auth, payment, mandate) => system.authorizations.chargeMandate(tx, auth, payment, mandate),
      system.sharedDetails,
    );
    mandateMerchantRoutes(v1, system.mandates);
    refundRoutes(v1, system.database.db, system.refunds);
    webhookRoutes(v1, system.database.db, system.webhooks);
    merchantRoutes(v1, system.database.db, system.merchants, system.ledger);
    reportRoutes(v1, new ReportService({ ...system, db: system.database.db, clock: system.config.clock }));
    dashboardRoutes(v1, system.database.db, system.merchantUsers, system.dashboardPasskeys);
  });

  // The dashboard's sign-in steps, before there is a session: limited per address (and per email inside).
  await app.register(async (signIn) => {
    signIn.addHook("onSend", dashboardCorsHeaders(system.config.checkoutBaseUrl));
    await limits.register(signIn, "sign-in");
    dashboardSignInRoutes(signIn, system.merchantUsers, system.dashboardPasskeys);
    staffSignInRoutes(signIn, system.staff);
  });

  // The operator console's routes (staff/): a staff session only, never a merchant's credential; own limits.
  await app.register(async (consoleScope) => {
    consoleScope.addHook("onSend", dashboardCorsHeaders(system.config.checkoutBaseUrl));
    authenticateStaff(consoleScope, system.staff);
    await limits.register(consoleScope, "console", (request) => request.staffAuth?.staffId ?? request.ip);
    staffRoutes(consoleScope, system.staff, system.staffConsole);
  });

  // The payer's routes: no merchant key; sessions come from messenger sign-in. Limited per address. The web app
  // (wallet and hosted checkout) calls them from its own origin: CORS for that origin alone, on these paths alone.
  await app.register(async (payer) => {
    await payer.register(cors, webCors(system.config.checkoutBaseUrl));
    await limits.register(payer, "payer");
    // Every route below reads the payer's session before its input, unless it says `config: { public: true }`.
    requirePayerSession(payer, system.payers);
    payerRoutes(payer, system.payers, system.config.checkoutBaseUrl);
    deviceRoutes(payer, system.devices);
    pinRoutes(payer, system.pins);
    approvalRoutes(payer, system.approvals);
    passkeyRoutes(payer, system.passkeys);
    cardRoutes(payer, system.vault, system.issuers);
    recoveryRoutes(payer, system.recovery);
    authorizationRoutes(payer, system.authorizations, system.statementSigner);
    mandatePayerRoutes(payer, system.mandates);
    checkoutRoutes(payer, system.checkout);
    receiptRoutes(payer, system.receipts);
  });

  // The audit key is public: anyone checks an exported log or a witness's heads with it.
  await app.register(async (publicKeys) => {
    await limits.register(publicKeys, "audit-key");
    auditRoutes(publicKeys, system.audit);
  });

  // The Pay with MPay button's script and the payment status it polls with the publishable key (http/merchant-script.ts).
  await app.register(async (button) =>
    merchantScriptRoutes(
      button,
      {
        authenticate: (header) => system.merchants.authenticate(header, "publishable"),
        status: async (auth, id) => (await system.payments.retrieve(auth, id)).status,
      },
      { limits },
    ),
  );

  // The vault's unseal and status routes: no merchant key (the custodians' shares are the credential), own limits.
  await app.register(async (vault) => vaultRoutes(vault, system.keys, system.audit, limits));

  return app;
}
