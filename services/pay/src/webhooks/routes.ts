import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { EVENT_TYPES } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { answerIdempotent, errorResponse, idParam, listEnvelope, listQuery, merchantOf } from "../http/route-kit.ts";
import { DEFAULT_SECRET_OVERLAP_SECONDS, MAX_SECRET_OVERLAP_SECONDS, type WebhookService } from "./service.ts";
import type { DeliveryRow, EndpointRow, EventRow } from "./store.ts";

export const endpointSchema = z.object({
  id: z.string(),
  object: z.literal("webhook_endpoint"),
  livemode: z.boolean(),
  url: z.string(),
  enabledEvents: z.array(z.string()),
  description: z.string().nullable(),
  status: z.enum(["enabled", "disabled"]),
  v1aPublicKey: z.string().nullable().describe("whpk_… Ed25519 key to verify v1a signatures, when asked for"),
  previousSecretExpiresAt: z
    .string()
    .nullable()
    .describe("After a secret rotation: until then deliveries carry a second v1 signature, by the old secret"),
  disabledAt: z.string().nullable().describe("When a disabled endpoint was disabled"),
  disabledReason: z
    .enum(["merchant", "auto_disabled"])
    .nullable()
    .describe("merchant: by DELETE; auto_disabled: by MPay, after every delivery failed for 3 days"),
  failingSince: z
    .string()
    .nullable()
    .describe("The first failed attempt since the last success, while the endpoint fails (null while it answers)"),
  createdAt: z.string(),
});
export const endpointWithSecretSchema = endpointSchema.extend({
  secret: z.string().describe("The endpoint's whsec_ signing secret: shown in this answer only, never again"),
});
const eventTypes = z
  .array(z.string().max(40))
  .max(EVENT_TYPES.length + 1)
  .describe('Event types to send, or ["*"] (the default) for all');
const description = z.string().max(500).nullable().describe("Your own words for this endpoint, plain text");
export const deliverySchema = z.object({
  id: z.string().describe("The webhook-id header of this message"),
  object: z.literal("webhook_delivery"),
  eventId: z.string(),
  endpointId: z.string(),
  status: z.enum(["pending", "succeeded", "failed"]),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
});
export const eventSchema = z.object({
  id: z.string(),
  object: z.literal("event"),
  type: z.string(),
  livemode: z.boolean(),
  createdAt: z.string(),
  data: z.record(z.string(), z.unknown()),
});
const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse };

const endpointView = (e: EndpointRow) => ({
  id: e.id,
  object: "webhook_endpoint" as const,
  livemode: e.mode === "live",
  url: e.url,
  enabledEvents: e.enabledEvents,
  description: e.description,
  status: e.status,
  v1aPublicKey: e.v1aPublicKey,
  previousSecretExpiresAt:
    e.previousSecretExpiresAt && e.previousSecretExpiresAt > new Date()
      ? e.previousSecretExpiresAt.toISOString()
      : null,
  disabledAt: e.status === "disabled" && e.disabledAt ? e.disabledAt.toISOString() : null,
  disabledReason: e.status === "disabled" ? e.disabledReason : null,
  failingSince: e.failingSince ? e.failingSince.toISOString() : null,
  createdAt: e.createdAt.toISOString(),
});
const endpointWithSecretView = (e: EndpointRow, secret: string) => ({ ...endpointView(e), secret });
const deliveryView = (d: DeliveryRow) => ({
  id: d.id,
  object: "webhook_delivery" as const,
  eventId: d.eventId,
  endpointId: d.endpointId,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.status === "pending" ? d.nextAttemptAt.toISOString() : null,
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  deliveredAt: d.deliveredAt ? d.deliveredAt.toISOString() : null,
  createdAt: d.createdAt.toISOString(),
});
const eventView = (e: EventRow) => ({
  id: e.id,
  object: "event" as const,
  type: e.type,
  livemode: e.mode === "live",
  createdAt: e.createdAt.toISOString(),
  data: e.data,
});

export function webhookRoutes(app: FastifyInstance, db: Db, webhooks: WebhookService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/webhook-endpoints",
    {
      schema: {
        tags: ["webhooks"],
        summary: "Create a webhook endpoint",
        description:
          "The answer holds the endpoint's own whsec_ signing secret, once: it is never answered again, and a repeated Idempotency-Key is refused rather than replayed.",
        body: z.strictObject({
          url: z.string().max(2048),
          enabledEvents: eventTypes.optional(),
          description: description.optional(),
          signatures: z
            .array(z.enum(["v1", "v1a"]))
            .max(2)
            .optional(),
        }),
        response: { 200: endpointWithSecretSchema, ...errors },
      },
    },
    (request, reply) =>
      answerIdempotent(
        db,
        request,
        reply,
        "POST /v1/webhook-endpoints",
        async (tx, auth) => {
          const { endpoint, secret } = await webhooks.createEndpoint(tx, auth, request.body);
          return { statusCode: 200, body: endpointWithSecretView(endpoint, secret!.peek()) };
        },
        // The answer holds the new secret, which is stored only sealed: a repeated key is refused, not replayed.
        { replayable: false },
      ),
  );

  r.post(
    "/v1/webhook-endpoints/:id",
    {
      schema: {
        tags: ["webhooks"],
        summary: "Update a webhook endpoint",
        description: "Changes url, enabledEvents or description; the url is checked as at creation. Audited.",
        params: idParam,
        body: z.strictObject({
          url: z.string().max(2048).optional(),
          enabledEvents: eventTypes.optional(),
          description: description.optional(),
        }),
        response: { 200: endpointSchema, ...errors },
      },
    },
    (request, reply) =>
      answerIdempotent(db, request, reply, "POST /v1/webhook-endpoints/:id", async (tx, auth) => ({
        statusCode: 200,
        body: endpointView(await webhooks.updateEndpoint(tx, auth, request.params.id, request.body)),
      })),
  );

  r.post(
    "/v1/webhook-endpoints/:id/test",
    {
      schema: {
        tags: ["webhooks"],
        summary: "Send a test event to a webhook endpoint",
        description:
          "Sends a webhook_endpoint.test event to this endpoint alone, signed as any delivery, and answers the delivery after one attempt: status succeeded or failed, lastStatusCode, lastError.",
        params: idParam,
        body: z.strictObject({}).nullish(),
        response: { 200: deliverySchema, ...errors },
      },
    },
    (request, reply) =>
      answerIdempotent(db, request, reply, "POST /v1/webhook-endpoints/:id/test", async (tx, auth) => ({
        statusCode: 200,
        body: deliveryView(await webhooks.testEndpoint(tx, auth, request.params.id)),
      })),
  );

  r.post(
    "/v1/webhook-endpoints/:id/rotate-secret",
    {
      schema: {
        tags: ["webhooks"],
        summary: "Rotate a webhook endpoint's signing secret",
        description: `Answers a new whsec_ secret, once. The old one keeps signing beside it (a second v1 signature) for expiresInSeconds (default ${DEFAULT_SECRET_OVERLAP_SECONDS}, 0: it stops at once, at most ${MAX_SECRET_OVERLAP_SECONDS}). Audited.`,
        params: idParam,
        body: z
          .strictObject({
            expiresInSeconds: z.number().int().min(0).max(MAX_SECRET_OVERLAP_SECONDS).optional(),
          })
          .nullish(),
        response: { 200: endpointWithSecretSchema, ...errors },
      },
    },
    (request, reply) =>
      answerIdempotent(
        db,
        request,
        reply,
        "POST /v1/webhook-endpoints/:id/rotate-secret",
        async (tx, auth) => {
          const overlap = request.body?.expiresInSeconds ?? DEFAULT_SECRET_OVERLAP_SECONDS;
          const { endpoint, secret } = await webhooks.rotateSecret(tx, auth, request.params.id, overlap);
          return { statusCode: 200, body: endpointWithSecretView(endpoint, secret.peek()) };
        },
        { replayable: false },
      ),
  );

  r.get(
    "/v1/webhook-endpoints",
    {
      schema: {
        tags: ["webhooks"],
        summary: "List webhook endpoints",
        response: { 200: listEnvelope(endpointSchema), ...errors },
      },
    },
    async (request) => ({
      object: "list" as const,
      data: (await webhooks.listEndpoints(merchantOf(request))).map(endpointView),
      hasMore: false,
    }),
  );

  r.get(
    "/v1/webhook-endpoints/:id",
    { schema: { tags: ["webhooks"], params: idParam, response: { 200: endpointSchema, ...errors } } },
    async (request) => endpointView(await webhooks.endpoint(merchantOf(request), request.params.id)),
  );

  r.delete(
    "/v1/webhook-endpoints/:id",
    {
      schema: {
        tags: ["webhooks"],
        summary: "Disable a webhook endpoint",
        description:
          "Nothing more is sent to it; its pending deliveries end failed. POST /v1/webhook-endpoints/{id}/enable undoes it. Audited.",
        params: idParam,
        response: { 200: endpointSchema, ...errors },
      },
    },
    async (request) => endpointView(await webhooks.disableEndpoint(merchantOf(request), request.params.id)),
  );

  r.post(
    "/v1/webhook-endpoints/:id/enable",
    {
      schema: {
        tags: ["webhooks"],
        summary: "Enable a disabled webhook endpoint",
        description:
          "Sends new events to it again (its failed deliveries can be re-sent), with a fresh failing-since clock; an enabled endpoint is answered unchanged. Audited.",
        params: idParam,
        body: z.strictObject({}).nullish(),
        response: { 200: endpointSchema, ...errors },
      },
    },
    (request, reply) =>
      answerIdempotent(db, request, reply, "POST /v1/webhook-endpoints/:id/enable", async (tx, auth) => ({
        statusCode: 200,
        body: endpointView(await webhooks.enableEndpoint(tx, auth, request.params.id)),
      })),
  );

  r.get(
    "/v1/webhook-endpoints/:id/deliveries",
    {
      schema: {
        tags: ["webhooks"],
        params: idParam,
        querystring: z.strictObject({
          status: z.enum(["pending", "succeeded", "failed"]).optional(),
          limit: listQuery.limit,
        }),
        response: { 200: listEnvelope(deliverySchema), ...errors },
      },
    },
    async (request) => ({
      object: "list" as const,
      data: (
        await webhooks.deliveries(merchantOf(request), request.params.id, request.query.status, request.query.limit)
      ).map(deliveryView),
      hasMore: false,
    }),
  );

  r.post(
    "/v1/webhook-deliveries/:id/retry",
    {
      schema: {
        tags: ["webhooks"],
        params: idParam,
        body: z.strictObject({}).nullish(),
        response: { 200: deliverySchema, ...errors },
      },
    },
    (request, reply) =>
      answerIdempotent(db, request, reply, "POST /v1/webhook-deliveries/:id/retry", async (tx, auth) => ({
        statusCode: 200,
        body: deliveryView(await webhooks.retryDelivery(tx, auth, request.params.id)),
      })),
  );

  r.get(
    "/v1/events",
    {
      schema: {
        tags: ["events"],
        summary: "List events",
        querystring: z.strictObject({ ...listQuery, type: z.enum(EVENT_TYPES).optional() }),
        response: { 200: listEnvelope(eventSchema), ...errors },
      },
    },
    async (request) => {
      const { rows, hasMore } = await webhooks.listEvents(merchantOf(request), request.query);
      return { object: "list" as const, data: rows.map(eventView), hasMore };
    },
  );

  r.get(
    "/v1/events/:id",
    { schema: { tags: ["events"], params: idParam, response: { 200: eventSchema, ...errors } } },
    async (request) => eventView(await webhooks.event(merchantOf(request), request.params.id)),
  );
}
