/**
 * The pay server's HTTP face: Fastify with zod schemas (validation and the OpenAPI document come from the same
 * schemas), merchant authentication on /v1, one error handler, health, readiness and Prometheus metrics.
 */
import Fastify, { type FastifyInstance } from "fastify";
import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { sql } from "drizzle-orm";
import { Registry, collectDefaultMetrics, Histogram } from "prom-client";
import { newId } from "@mpay/protocol";
import type { PaySystem } from "./system.ts";
import { ApiError, errorBody, sendError } from "./http/errors.ts";
import { openApiTransform } from "./http/openapi.ts";
import { paymentRoutes } from "./payments/routes.ts";
import { refundRoutes } from "./refunds/routes.ts";
import { webhookRoutes } from "./webhooks/routes.ts";
import { merchantRoutes } from "./merchants/routes.ts";
import { payerRoutes } from "./payers/routes.ts";
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
import { webCors } from "./http/web-cors.ts";
import { checkoutRoutes } from "./checkout/routes.ts";
import { receiptRoutes } from "./receipts/routes.ts";
import { merchantScriptRoutes } from "./http/merchant-script.ts";

export const BODY_LIMIT_BYTES = 16 * 1024;

export async function buildApp(system: PaySystem): Promise<FastifyInstance> {
  // Typed as a plain FastifyInstance: pino's Logger type is wider than Fastify's default logger type.
  const app = Fastify({
    loggerInstance: system.log,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => newId("request"),
    requestIdHeader: false,
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook("onSend", async (request, reply) => {
    reply.header("request-id", request.id);
  });
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(
        errorBody(
          new ApiError("route_not_found", `No route ${request.method} ${request.url.split("?")[0]?.slice(0, 100)}.`),
          request.id,
        ),
      ),
  );

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
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
    transform: openApiTransform,
  });

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: "mpay_http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
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
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  await app.register(async (v1) => {
    // Authenticate before the rate limit so the limit is per merchant key, not per load balancer address.
    v1.addHook("onRequest", async (request) => {
      request.merchantAuth = await system.merchants.authenticate(request.headers.authorization);
    });
    await v1.register(rateLimit, {
      max: system.config.rateLimitPerMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => request.merchantAuth?.keyId ?? request.ip,
      errorResponseBuilder: (request) => ({
        statusCode: 429,
        ...errorBody(new ApiError("rate_limited", "Too many requests; slow down and retry with backoff."), request.id),
      }),
    });
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
  });

  // The payer's routes: no merchant key; sessions come from messenger sign-in. Limited per address. The web app
  // (wallet and hosted checkout) calls them from its own origin: CORS for that origin alone, on these paths alone.
  await app.register(async (payer) => {
    await payer.register(cors, webCors(system.config.checkoutBaseUrl));
    await payer.register(rateLimit, {
      max: system.config.rateLimitPerMinute,
      timeWindow: 60_000,
      errorResponseBuilder: (request) => ({
        statusCode: 429,
        ...errorBody(new ApiError("rate_limited", "Too many requests; slow down and retry with backoff."), request.id),
      }),
    });
    payerRoutes(payer, system.payers, system.config.checkoutBaseUrl);
    deviceRoutes(payer, system.payers, system.devices);
    pinRoutes(payer, system.payers, system.pins);
    approvalRoutes(payer, system.payers, system.approvals);
    passkeyRoutes(payer, system.payers, system.passkeys);
    cardRoutes(payer, system.payers, system.vault, system.issuers);
    recoveryRoutes(payer, system.payers, system.recovery);
    authorizationRoutes(payer, system.payers, system.authorizations, system.statementSigner);
    mandatePayerRoutes(payer, system.payers, system.mandates);
    checkoutRoutes(payer, system.checkout);
    receiptRoutes(payer, system.payers, system.receipts);
  });

  // The audit key is public: anyone checks an exported log or a witness's heads with it.
  await app.register(async (publicKeys) => {
    await publicKeys.register(rateLimit, {
      max: system.config.rateLimitPerMinute,
      timeWindow: 60_000,
      errorResponseBuilder: (request) => ({
        statusCode: 429,
        ...errorBody(new ApiError("rate_limited", "Too many requests; slow down and retry with backoff."), request.id),
      }),
    });
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
      { rateLimitPerMinute: system.config.rateLimitPerMinute },
    ),
  );

  // The vault's unseal and status routes: no merchant key (the custodians' shares are the credential), own limits.
  await app.register(async (vault) => vaultRoutes(vault, system.keys, system.audit));

  return app;
}
