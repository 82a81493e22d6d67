/**
 * The named schemas of /openapi.json (issue 10, deliverable 5): each context's own zod schema, registered here
 * under the name a merchant's generated client gets (`components.schemas.Payment`, …), so every operation that
 * answers one refers to it by `$ref` instead of repeating it. Like sealed-columns.ts, the one place that names
 * them; http/openapi.ts (infrastructure) takes the registry without knowing any context. The webhook payloads are
 * defined here too: no route answers them, they are what MPay POSTs to the merchant (OpenAPI 3.1 `webhooks`).
 */
import { z } from "zod";
import { EVENT_TYPES, apiErrorAnswerSchema, mandateViewSchema } from "@mpay/protocol";
import { accountSchema, balanceSchema } from "./merchants/routes.ts";
import { paymentSchema } from "./payments/view.ts";
import { refundSchema } from "./refunds/view.ts";
import { deliverySchema, endpointSchema, endpointWithSecretSchema, eventSchema } from "./webhooks/routes.ts";
import { ENDPOINT_DISABLED_EVENT } from "./webhooks/endpoint-health.ts";
import { TEST_EVENT_TYPE } from "./webhooks/service.ts";
import type { WebhookEventDoc } from "./http/openapi.ts";

export const apiSchemas = z.registry<{ id: string; description?: string }>();

apiSchemas.add(paymentSchema, { id: "Payment", description: "A payment, as the merchant API shows it." });
apiSchemas.add(refundSchema, { id: "Refund", description: "A refund of (part of) a captured payment." });
apiSchemas.add(mandateViewSchema, { id: "Mandate", description: "A card-on-file mandate the payer gave." });
apiSchemas.add(eventSchema, { id: "Event", description: "An event, as listed and as webhooks deliver it." });
apiSchemas.add(endpointSchema, { id: "WebhookEndpoint", description: "A URL MPay sends signed events to." });
apiSchemas.add(endpointWithSecretSchema, {
  id: "WebhookEndpointWithSecret",
  description: "A webhook endpoint with its whsec_ signing secret: only in the answer that made the secret.",
});
apiSchemas.add(deliverySchema, { id: "WebhookDelivery", description: "One event's delivery to one endpoint." });
apiSchemas.add(balanceSchema, { id: "Balance", description: "One ledger balance of this merchant and mode." });
apiSchemas.add(accountSchema, { id: "Account", description: "This merchant." });
apiSchemas.add(apiErrorAnswerSchema, { id: "Error", description: "Every error answer." });

const eventFields = {
  id: z.string().describe("evt_…"),
  object: z.literal("event"),
  createdAt: z.string(),
  livemode: z.boolean(),
};
const PAYMENT_EVENTS = EVENT_TYPES.filter((t) => t.startsWith("payment."));
const MANDATE_EVENTS = EVENT_TYPES.filter((t) => t.startsWith("mandate."));

const paymentEvent = z.object({
  ...eventFields,
  type: z.enum(PAYMENT_EVENTS as [string, ...string[]]),
  data: z.object({ payment: paymentSchema }),
});
const refundEvent = z.object({
  ...eventFields,
  type: z.literal("refund.succeeded"),
  data: z.object({
    refund: refundSchema,
    amountRefunded: z.number().int(),
    amountRefundable: z.number().int(),
    payment: paymentSchema,
  }),
});
const mandateEvent = z.object({
  ...eventFields,
  type: z.enum(MANDATE_EVENTS as [string, ...string[]]),
  data: z.object({ mandate: mandateViewSchema }),
});
const testEvent = z.object({
  ...eventFields,
  type: z.literal(TEST_EVENT_TYPE),
  data: z.object({ webhookEndpoint: z.object({ id: z.string(), url: z.string() }) }),
});
const endpointDisabledEvent = z.object({
  ...eventFields,
  type: z.literal(ENDPOINT_DISABLED_EVENT),
  data: z.object({
    webhookEndpoint: z.object({
      id: z.string(),
      url: z.string(),
      reason: z.literal("auto_disabled"),
      disabledAt: z.string(),
      failingSince: z.string().describe("The first failed attempt since the endpoint's last success"),
    }),
  }),
});
apiSchemas.add(paymentEvent, { id: "PaymentEvent", description: "The body of a payment.* webhook." });
apiSchemas.add(refundEvent, { id: "RefundEvent", description: "The body of a refund.succeeded webhook." });
apiSchemas.add(mandateEvent, { id: "MandateEvent", description: "The body of a mandate.* webhook." });
apiSchemas.add(endpointDisabledEvent, {
  id: "WebhookEndpointDisabledEvent",
  description: "The body of a webhook_endpoint.disabled webhook: MPay disabled an endpoint failing for days.",
});
apiSchemas.add(testEvent, {
  id: "WebhookEndpointTestEvent",
  description: "The body of the event POST /v1/webhook-endpoints/{id}/test sends.",
});

/** What each webhook MPay sends carries, for the document's `webhooks`: one entry per event type. */
export const WEBHOOK_EVENTS: WebhookEventDoc[] = [
  ...PAYMENT_EVENTS.map((type) => ({ type, schema: "PaymentEvent", summary: `The payment became ${type.slice(8)}` })),
  { type: "refund.succeeded", schema: "RefundEvent", summary: "A refund succeeded" },
  { type: "mandate.created", schema: "MandateEvent", summary: "The payer gave a card-on-file mandate" },
  { type: "mandate.revoked", schema: "MandateEvent", summary: "The payer revoked a mandate" },
  {
    type: ENDPOINT_DISABLED_EVENT,
    schema: "WebhookEndpointDisabledEvent",
    summary: "MPay disabled a webhook endpoint that failed for days",
  },
  { type: TEST_EVENT_TYPE, schema: "WebhookEndpointTestEvent", summary: "A test event, sent on request" },
];
