/**
 * What /openapi.json says of each operation besides its schemas (issue 10, deliverable 5): an `operationId` a
 * client generator can name a method by, a summary, the credential each route takes, the `Idempotency-Key`
 * header of every POST, the error statuses the route really answers, named schemas by `$ref`, and the webhooks
 * MPay sends (OpenAPI 3.1 `webhooks`). The ids follow Stripe's OpenAPI convention (`PostPaymentsIdCapture`),
 * derived from the method and path, so a new route gets one without anyone remembering to write it and two routes
 * can never share one.
 */
import type { FastifySchema, RouteOptions } from "fastify";
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from "fastify-type-provider-zod";
import type { $ZodRegistry } from "zod/v4/core";
import { ERROR_CODES, ERROR_STATUS } from "@mpay/protocol";

type Transform = ReturnType<typeof createJsonSchemaTransform>;
type TransformObject = ReturnType<typeof createJsonSchemaTransformObject>;
type Json = Record<string, unknown>;

/** One webhook MPay sends: its event type, the named schema of its body, a summary. */
export interface WebhookEventDoc {
  type: string;
  schema: string;
  summary: string;
}

/** `POST /v1/payments/:id/capture` → `PostPaymentsIdCapture`. */
export function operationIdOf(method: string, url: string): string {
  const pascal = (word: string) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
  const words = url
    .replace(/^\/v1\//, "/")
    .split("/")
    .filter(Boolean)
    .flatMap((segment) => segment.replace(/^:|[{}]/g, "").split(/[-_.]/))
    .map(pascal);
  return pascal(method) + words.join("");
}

const isParam = (segment: string) => segment.startsWith(":") || segment.startsWith("{");
const words = (segment: string) => segment.replace(/[-_]/g, " ");
const singular = (noun: string) => noun.replace(/ies$/, "y").replace(/s$/, "");
const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);
const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * A summary from the method and path, for the routes that do not write their own: `GET /v1/payments/:id` →
 * "Retrieve a payment", `POST /v1/payments/:id/capture` → "Capture a payment", `GET /v1/payments/:id/refunds` →
 * "List a payment's refunds".
 */
export function summaryOf(method: string, url: string): string {
  const segments = url
    .replace(/^\/v1\//, "")
    .split("/")
    .filter(Boolean);
  const last = segments.at(-1) ?? "";
  const m = method.toUpperCase();
  if (isParam(last)) {
    const thing = singular(words(segments.at(-2) ?? "resource"));
    if (m === "GET") return `Retrieve ${article(thing)}`;
    if (m === "DELETE") return `Delete ${article(thing)}`;
    return `Update ${article(thing)}`;
  }
  const previous = segments.at(-2);
  const owner = previous && isParam(previous) ? singular(words(segments.at(-3) ?? "")) : null;
  const context = segments
    .filter((s) => !isParam(s))
    .slice(0, -1)
    .map(words)
    .join(" ");
  if (m === "GET" && owner) return `List ${article(owner)}'s ${words(last)}`;
  if (m === "GET")
    return capital(`${last.endsWith("s") ? "list " : ""}${context} ${words(last)}`.replace(/\s+/g, " ").trim());
  if (m === "DELETE") return capital(`delete ${context} ${words(last)}`.trim());
  if (owner) {
    return last.endsWith("s")
      ? `Create ${article(singular(words(last)))} for ${article(owner)}`
      : `${capital(words(last))} ${article(owner)}`;
  }
  if (last.endsWith("s") && segments.length <= 2) return `Create ${article(singular(words(last)))}`;
  return capital(`${words(last)} ${context}`.trim());
}

/**
 * The scheme a route takes: the payer's session on `/v1/payer/…` (except the sign-in steps before there is one),
 * none on the hosted checkout's `/v1/checkout/…` (the payment id is the capability), the merchant's secret key
 * elsewhere (the document's default).
 */
export function securityOf(url: string): FastifySchema["security"] {
  if (url.startsWith("/v1/checkout/")) return [];
  if (/^\/v1\/payer\/auth\//.test(url)) return [];
  if (url.startsWith("/v1/payer/")) return [{ payerSession: [] }];
  return undefined;
}

/** What each error status means here; the codes are in the `Error` schema's enum. */
const ERROR_RESPONSES: Record<string, string> = {
  "400": "The request is invalid (parameter_invalid, parameter_missing, parameter_unknown, body_invalid_json, …).",
  "401": "The credential is missing, invalid or expired (api_key_missing, api_key_invalid, api_key_expired, …).",
  "403": "The credential may not do this (secret_key_required: a publishable key on a secret-key route, …).",
  "404": "No such resource for this merchant and mode (resource_missing).",
  "409":
    "It conflicts with the resource's state or an earlier request (idempotency_key_reused, idempotency_key_in_progress, …).",
  "413": "The body is larger than 16 KiB (body_too_large).",
  "429": "Too many requests (rate_limited): slow down and retry with backoff.",
  "500": "Something went wrong on MPay's side (internal_error): safe to retry with the same Idempotency-Key.",
  "503": "A dependency is unavailable (issuer_unavailable, vault_sealed, audit_head_invalid, …).",
};

/** Statuses that every operation of a kind can answer, whatever its own schema lists. */
function answeredStatuses(method: string, path: string, merchant: boolean, security: unknown): string[] {
  const statuses = ["429", "500"];
  if (merchant) statuses.push("401", "403");
  if (JSON.stringify(security) === JSON.stringify([{ payerSession: [] }])) statuses.push("401");
  if (method === "post") statuses.push("400", "413");
  // Merchant POSTs: idempotency_key_reused or idempotency_key_in_progress, and audit_head_invalid or issuer_unavailable where they call out.
  if (method === "post" && merchant) statuses.push("409", "503");
  if (hasPathParameter(path)) statuses.push("400", "404");
  return statuses;
}

const hasPathParameter = (path: string) => /\{[^}]+\}/.test(path);

/**
 * Statuses a merchant route's shared error list names but the route cannot answer: a GET changes nothing, so no
 * 409 and no body to be too large; without an id in the path there is nothing to be missing.
 */
function unanswered(method: string, path: string): string[] {
  const never = method === "get" ? ["409", "413"] : [];
  if (!hasPathParameter(path)) never.push("404");
  return never;
}

/** The document's tags, in the order a merchant reads them. */
const TAGS: Record<string, string> = {
  payments: "Create, read, capture and cancel payments.",
  refunds: "Refund captured payments, in part or whole.",
  mandates: "Card-on-file mandates the payers gave.",
  events: "What happened, as webhooks deliver it.",
  webhooks: "Webhook endpoints, their secrets and deliveries.",
  account: "This merchant, its keys and balances.",
  checkout: "The hosted checkout page's calls (no credential: the payment id is the capability).",
  payer: "The payer's wallet (messenger sign-in and the payer's session): not for merchants.",
  vault: "The operator's vault unseal and status.",
};

const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };

/**
 * Reaches every `$ref` in the document, so the components no operation or webhook names can go: zod's transform
 * emits each registered schema twice (`Payment` for answers, `PaymentInput` for bodies) whether used or not.
 */
function referencedSchemas(doc: Json): Set<string> {
  const schemas = ((doc["components"] as Json | undefined)?.["schemas"] ?? {}) as Record<string, unknown>;
  const seen = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (value === null || typeof value !== "object") return;
    for (const [key, child] of Object.entries(value)) {
      if (key === "$ref" && typeof child === "string" && child.startsWith("#/components/schemas/")) {
        const name = child.slice("#/components/schemas/".length);
        if (!seen.has(name)) {
          seen.add(name);
          walk(schemas[name]);
        }
      } else walk(child);
    }
  };
  walk({ ...doc, components: { ...(doc["components"] as Json), schemas: {} } });
  return seen;
}

/** The per-route transform and the whole-document transform @fastify/swagger takes, over the named schemas. */
export function openApiTransforms(
  registry: $ZodRegistry<{ id: string; description?: string }>,
  webhookEvents: readonly WebhookEventDoc[],
): { transform: Transform; transformObject: TransformObject } {
  const zodTransform = createJsonSchemaTransform({ schemaRegistry: registry });
  const zodTransformObject = createJsonSchemaTransformObject({ schemaRegistry: registry });

  const transform: Transform = (input) => {
    const transformed = zodTransform(input);
    if ((transformed.schema as { hide?: boolean }).hide) return transformed;
    const route: RouteOptions = input.route;
    const method = Array.isArray(route.method) ? (route.method[0] ?? "GET") : route.method;
    // A route that says its own security (the operator's unseal routes) keeps it.
    const security = transformed.schema.security ?? securityOf(input.url);
    const schema: FastifySchema & { operationId: string; summary: string } = {
      ...transformed.schema,
      operationId: operationIdOf(method, input.url),
      summary: (transformed.schema as { summary?: string }).summary ?? summaryOf(method, input.url),
      ...(security === undefined ? {} : { security }),
    };
    return { ...transformed, schema };
  };

  const transformObject: TransformObject = (input) => {
    const doc = zodTransformObject(input) as Json;
    const components = (doc["components"] ?? {}) as Json;
    const schemas = (components["schemas"] ?? {}) as Record<string, Json>;
    const paths = (doc["paths"] ?? {}) as Record<string, Record<string, Json>>;

    // Error: its type and code as the enums merchants branch on (packages/protocol/src/errors.ts).
    const errorFields = (schemas["Error"]?.["properties"] as Json | undefined)?.["error"] as Json | undefined;
    const errorProperties = errorFields?.["properties"] as Record<string, Json> | undefined;
    if (errorProperties?.["code"] && errorProperties["type"]) {
      errorProperties["code"] = { type: "string", enum: Object.keys(ERROR_CODES) };
      errorProperties["type"] = { type: "string", enum: Object.keys(ERROR_STATUS) };
    }

    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        // Idempotency-Key: one shared parameter instead of each route's own header schema.
        const parameters = ((operation["parameters"] as Json[] | undefined) ?? []).filter(
          (p) => !(p["in"] === "header" && String(p["name"]).toLowerCase() === "idempotency-key"),
        );
        if (method === "post") parameters.push({ $ref: "#/components/parameters/IdempotencyKey" });
        if (parameters.length > 0) operation["parameters"] = parameters;

        const responses = (operation["responses"] ?? {}) as Record<string, Json>;
        const merchant = operation["security"] === undefined;
        if (merchant) for (const status of unanswered(method, path)) delete responses[status];
        for (const status of answeredStatuses(method, path, merchant, operation["security"])) {
          responses[status] ??= { description: ERROR_RESPONSES[status] ?? "Error", content: errorContent };
        }
        for (const [status, response] of Object.entries(responses)) {
          // Errors are JSON on every route, also where the answer is not (a route that `produces` text/csv has
          // every response described as CSV by @fastify/swagger).
          const content = response["content"] as Json | undefined;
          if (!status.startsWith("2") && content && !content["application/json"]) response["content"] = errorContent;
          if (ERROR_RESPONSES[status] && response["description"] === "Default Response")
            response["description"] = ERROR_RESPONSES[status];
          else if (status.startsWith("2") && response["description"] === "Default Response")
            response["description"] = "OK";
        }
        responses["431"] ??= { $ref: "#/components/responses/HeaderTooLarge" };
        operation["responses"] = responses;
      }
    }

    const webhooks = Object.fromEntries(
      webhookEvents.map((e) => [
        e.type,
        {
          post: {
            operationId: operationIdOf("webhook", `/${e.type.replace(/\./g, "-")}`),
            summary: e.summary,
            description: `MPay POSTs this to each enabled endpoint subscribed to \`${e.type}\`, signed in the Standard Webhooks format. Answer any 2xx quickly; anything else is retried with backoff.`,
            tags: ["webhooks"],
            parameters: [
              { $ref: "#/components/parameters/WebhookId" },
              { $ref: "#/components/parameters/WebhookTimestamp" },
              { $ref: "#/components/parameters/WebhookSignature" },
            ],
            requestBody: {
              required: true,
              content: { "application/json": { schema: { $ref: `#/components/schemas/${e.schema}` } } },
            },
            responses: {
              "200": { description: "Received (any 2xx will do)." },
              "400": { description: "Rejected (a signature that does not verify, say): retried with backoff." },
            },
          },
        },
      ]),
    );

    const used = new Set(
      Object.values(paths).flatMap((ops) =>
        Object.values(ops).flatMap((o) => (o["tags"] as string[] | undefined) ?? []),
      ),
    );
    const tags = [...Object.keys(TAGS), ...[...used].filter((t) => !(t in TAGS)).sort()]
      .filter((name) => used.has(name))
      .map((name) => ({ name, description: TAGS[name] ?? name }));
    const withWebhooks: Json = { ...doc, tags, webhooks };
    const referenced = referencedSchemas(withWebhooks);
    const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => referenced.has(name)));
    return {
      ...withWebhooks,
      components: {
        ...components,
        schemas: kept,
        parameters: {
          IdempotencyKey: {
            name: "Idempotency-Key",
            in: "header",
            required: false,
            description:
              "Makes a retry safe: the first answer is stored with the key (scoped to merchant, mode and route, kept 24 hours) and a repeat gets it again with `Idempotent-Replayed: true`; the same key with another request is 409 idempotency_key_reused, and a key whose first request has not finished is 409 idempotency_key_in_progress (retry with the same key).",
            schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x20-\\x7E]+$" },
          },
          WebhookId: {
            name: "webhook-id",
            in: "header",
            required: true,
            description: "The delivery's id (msg_…), the same on every retry: dedupe by it.",
            schema: { type: "string" },
          },
          WebhookTimestamp: {
            name: "webhook-timestamp",
            in: "header",
            required: true,
            description: "Unix seconds of this attempt: reject a message older than 5 minutes.",
            schema: { type: "string", pattern: "^[0-9]+$" },
          },
          WebhookSignature: {
            name: "webhook-signature",
            in: "header",
            required: true,
            description:
              "Space-separated signatures of `id.timestamp.body`: `v1,<base64 HMAC-SHA256>` under the endpoint's whsec_ secret (two during a secret rotation's overlap), and `v1a,<base64 Ed25519>` for endpoints that asked for it.",
            schema: { type: "string" },
          },
        },
        responses: {
          HeaderTooLarge: {
            description:
              "The request line and headers pass 16 KiB: refused by the HTTP server before any route runs, as headers_too_large, and the connection is closed.",
            content: errorContent,
          },
        },
      },
    } as ReturnType<TransformObject>;
  };

  return { transform, transformObject };
}
