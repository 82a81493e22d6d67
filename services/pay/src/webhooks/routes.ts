import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { EVENT_TYPES } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { answerIdempotent, errorResponse, idParam, listEnvelope, listQuery, merchantOf } from "../http/route-kit.ts";
import type { WebhookService } from "./service.ts";
import type { DeliveryRow, EndpointRow, EventRow } from "./store.ts";

const endpointSchema = z.object({
  id: z.string(),
  object: z.literal("webhook_endpoint"),
  livemode: z.boolean(),
  url: z.string(),
  enabledEvents: z.array(z.string()),
  status: z.enum(["enabled", "disabled"]),
  v1aPublicKey: z.string().nullable().describe("whpk_… Ed25519 key to verify v1a signatures, when asked for"),
  createdAt: z.string(),
});
const deliverySchema = z.object({
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
const eventSchema = z.object({
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
  status: e.status,
  v1aPublicKey: e.v1aPublicKey,
  createdAt: e.createdAt.toISOString(),
});
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
        body: z.strictObject({
          url: z.string().max(2048),
          enabledEvents: z
            .array(z.string().max(40))
            .max(EVENT_TYPES.length + 1)
            .optional(),
          signatures: z
            .array(z.enum(["v1", "v1a"]))
            .max(2)
            .optional(),
        }),
        response: { 200: endpointSchema, ...errors },
      },
    },
    (request, reply) =>
      answerIdempotent(db, request, reply, "POST /v1/webhook-endpoints", async (tx, auth) => ({
        statusCode: 200,
        body: endpointView(await webhooks.createEndpoint(tx, auth, request.body)),
      })),
  );

  r.get(
    "/v1/webhook-endpoints",
    { schema: { tags: ["webhooks"], response: { 200: listEnvelope(endpointSchema), ...errors } } },
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
    { schema: { tags: ["webhooks"], params: idParam, response: { 200: endpointSchema, ...errors } } },
    async (request) => endpointView(await webhooks.disableEndpoint(merchantOf(request), request.params.id)),
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
