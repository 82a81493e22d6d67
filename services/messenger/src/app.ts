/**
 * The messenger's HTTP face: one server, one port. The OpenID Connect provider (a Koa application inside
 * oidc-provider) answers /.well-known/* and /oidc/*; Fastify answers everything else (health, the accounts API,
 * the sign-up page, the login and consent pages of the provider's interactions, the app's sessions, the
 * official accounts' messages, friends, chats and the live connection `/api/ws`).
 *
 * Why the split happens in Fastify's `serverFactory`, before Fastify sees the request, instead of mounting the
 * provider as Fastify middleware: oidc-provider reads and parses request bodies itself (token endpoint, PAR) and
 * warns against upstream body parsers; mounting would need @fastify/middie or @fastify/express, which this
 * repository does not have. A path-prefix switch in front of both keeps each framework whole, and Fastify still
 * owns listen, close and graceful shutdown of the one server.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import rateLimit from "@fastify/rate-limit";
import cors from "@fastify/cors";
import { sql } from "drizzle-orm";
import type { Provider } from "oidc-provider";
import { clientErrorAnswer, closingGate, requestForLog } from "@mpay/service-kit";
import type { MessengerSystem } from "./system.ts";
import {
  ApiError,
  clientAbortError,
  clientErrorBody,
  errorBody,
  describeForLog,
  sendError,
  toApiError,
} from "./http/errors.ts";
import { accountRoutes } from "./accounts/routes.ts";
import { signinRoutes } from "./signin/routes.ts";
import { sessionRoutes } from "./sessions/routes.ts";
import { officialRoutes } from "./official/routes.ts";
import { inboxRoutes } from "./official/inbox-routes.ts";
import { friendRoutes } from "./friends/routes.ts";
import { chatRoutes } from "./chats/routes.ts";
import { corsOptionsFor } from "./http/cors.ts";
import { liveRoutes } from "./realtime/routes.ts";
import { errorPage, sendPage } from "./http/pages.ts";
import { createProvider, type RegisteredClient } from "./oidc/provider.ts";
import type { ProviderSecrets } from "./oidc/secrets.ts";

export const BODY_LIMIT_BYTES = 16 * 1024;

export interface OidcSetup {
  secrets: ProviderSecrets;
  clients: RegisteredClient[];
}

export interface MessengerHttp {
  app: FastifyInstance;
  /** Creates the provider for `issuer` (known once the port is bound); until then its paths answer 503. */
  attachProvider(issuer: string): Provider;
}

/** Paths the provider owns; everything else goes to Fastify. */
export function isProviderPath(url: string | undefined): boolean {
  const path = (url ?? "/").split("?")[0] ?? "/";
  return path.startsWith("/oidc/") || path.startsWith("/.well-known/");
}

function isApi(url: string): boolean {
  return url.startsWith("/api/");
}

export async function buildApp(system: MessengerSystem, oidc: OidcSetup): Promise<MessengerHttp> {
  const { config, log } = system;
  let provider: Provider | undefined;
  let providerHandler: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  let issuer: string | undefined;
  const oidcLog = log.child({ component: "oidc" });

  function serveProvider(req: IncomingMessage, res: ServerResponse): void {
    if (!providerHandler) {
      res
        .writeHead(503, { "content-type": "application/json", "retry-after": "1" })
        .end('{"error":"temporarily_unavailable"}');
      return;
    }
    const started = process.hrtime.bigint();
    // Method, path and status only: the query string of /oidc/auth and the bodies of /oidc/token are not for logs.
    res.once("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      oidcLog.info(
        {
          method: req.method,
          path: (req.url ?? "").split("?")[0],
          status: res.statusCode,
          ms: Math.round(ms * 10) / 10,
        },
        "oidc request",
      );
    });
    providerHandler(req, res).catch((error: unknown) => {
      oidcLog.error({ err: describeForLog(error) }, "oidc request failed");
      if (!res.headersSent) res.writeHead(500).end();
    });
  }

  const app = Fastify({
    // Request lines with the query string's values replaced (service-kit's http/edge.ts): a session token a client
    // put in the live connection's URL, or anything else a query carries, is not written to the logs.
    loggerInstance: log.child({}, { serializers: { req: requestForLog } }),
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: config.trustProxy,
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    // The closing gate below answers the messenger's own 503 instead of Fastify's.
    return503OnClosing: false,
    // The shared edge: what Node's parser refuses (for the provider's paths too), in the API's body, then close.
    clientErrorHandler: clientErrorAnswer({ log, newRequestId: () => randomUUID(), body: clientErrorBody }),
    // A URL that does not decode, or a path parameter past Fastify's limit: the API's 400, not Fastify's body.
    frameworkErrors: (error, request, reply) => {
      const known =
        error.code === "FST_ERR_MAX_PARAM_LENGTH" || error.code === "FST_ERR_BAD_URL"
          ? new ApiError("parameter_invalid", "A path parameter is too long or not valid in a URL.")
          : error;
      sendError(request, reply, known);
    },
    serverFactory: (fastifyHandler) =>
      createServer((req, res) => {
        if (isProviderPath(req.url)) serveProvider(req, res);
        else fastifyHandler(req, res);
      }),
  }) as unknown as FastifyInstance;

  // HTML forms (login, consent, sign-up). Duplicate fields keep their first value; the object has no prototype,
  // so a field named __proto__ is just a field.
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
    const form: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [key, value] of new URLSearchParams(body as string)) if (!(key in form)) form[key] = value;
    done(null, form);
  });

  const closing = closingGate(
    () => new ApiError("server_shutting_down", "The messenger is shutting down; retry the request."),
  );
  app.addHook("preClose", closing.preClose);
  app.addHook("onRequest", closing.onRequest);

  app.setErrorHandler((error, request, reply) => {
    if (isApi(request.url)) return sendError(request, reply, error);
    const known = toApiError(error) ?? clientAbortError(request, error);
    if (known) return sendPage(reply, errorPage("Request refused", known.message, known.statusCode));
    request.log.error({ err: describeForLog(error) }, "request failed");
    return sendPage(
      reply,
      errorPage("Something went wrong", "Something went wrong on the messenger's side. Try again.", 500),
    );
  });
  app.setNotFoundHandler((request, reply) => {
    if (isApi(request.url)) {
      return reply.status(404).send(
        // Never the URL: an answer does not reflect what a caller (or a crafted link) put there.
        errorBody(new ApiError("route_not_found", "No route matches this method and path."), request.id),
      );
    }
    return sendPage(reply, errorPage("Not found", "There is no page here.", 404));
  });

  await app.register(rateLimit, { global: false, keyGenerator: (request) => request.ip });
  await app.register(cors, {
    delegator: (request, callback) => callback(null, corsOptionsFor(request, config.webOrigin)),
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    let database = "ok";
    try {
      await system.database.db.execute(sql`select 1`);
    } catch {
      database = "unreachable";
    }
    const ready = database === "ok" && provider !== undefined;
    return reply
      .status(ready ? 200 : 503)
      .send({ status: ready ? "ready" : "not_ready", checks: { database, provider: provider ? "ok" : "starting" } });
  });

  const current = () => {
    if (!provider || !issuer) throw new Error("the OpenID Connect provider is not attached yet");
    return { provider, issuer };
  };
  accountRoutes(app, system.accounts, () => current().issuer, config.signupRateLimitPerMinute);
  signinRoutes(app, {
    provider: () => current().provider,
    issuer: () => current().issuer,
    accounts: system.accounts,
    throttle: system.throttle,
    firstPartyClients: new Set(oidc.clients.filter((client) => client.firstParty).map((client) => client.clientId)),
    windowMinutes: Math.ceil(config.loginLimits.windowSeconds / 60),
  });
  sessionRoutes(app, system.sessions, system.accounts);
  officialRoutes(app, {
    messages: system.officialMessages,
    officialAccounts: config.officialAccounts,
    clients: oidc.clients,
  });
  inboxRoutes(app, system.sessions, system.officialMessages);
  friendRoutes(app, system.sessions, system.friends);
  chatRoutes(app, system.sessions, system.chats);
  await liveRoutes(app, {
    sessions: system.sessions,
    chats: system.chats,
    bus: system.live,
    timings: config.realtime,
  });

  return {
    app,
    attachProvider(url: string) {
      issuer = url;
      provider = createProvider({
        issuer: url,
        db: system.database.db,
        accounts: system.accounts,
        secrets: oidc.secrets,
        clients: oidc.clients,
        trustProxy: config.trustProxy,
        log: oidcLog,
      });
      providerHandler = provider.callback() as (req: IncomingMessage, res: ServerResponse) => Promise<void>;
      return provider;
    },
  };
}
