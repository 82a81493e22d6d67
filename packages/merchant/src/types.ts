/**
 * The SDK's public type names, derived from the generated OpenAPI types (generated/openapi.ts) by operation, not by
 * schema name: the operations' ids (`GetPaymentsId`, from method and path) are stable, while the document's named
 * schemas may be added or renamed. This is the one file that knows the generated file's shape; the client and the
 * merchant's code use only these names.
 */
import type { operations } from "./generated/openapi.ts";

type Operation = keyof operations;
type JsonOf<T> = T extends { content: { "application/json": infer B } } ? B : never;

/** The 200 answer of an operation. */
export type AnswerOf<Op extends Operation> = operations[Op] extends { responses: { 200: infer R } } ? JsonOf<R> : never;
/** The JSON body of an operation (without the `null` a body-less POST may send). */
export type BodyOf<Op extends Operation> = operations[Op] extends { requestBody?: infer R }
  ? NonNullable<JsonOf<NonNullable<R>>>
  : never;
/** The query string of an operation. */
export type QueryOf<Op extends Operation> = operations[Op] extends { parameters: { query?: infer Q } }
  ? NonNullable<Q>
  : never;

/** An operation the server may not have yet (routes being added): its type once it exists, `Fallback` until then. */
type LaterAnswer<Name extends string, Fallback> = Name extends Operation ? AnswerOf<Name> : Fallback;
type LaterBody<Name extends string, Fallback> = Name extends Operation ? BodyOf<Name> : Fallback;

/** The list envelope every list answers: `{ object: "list", data, hasMore }`. */
export interface ListAnswer<T> {
  object: "list";
  data: T[];
  hasMore: boolean;
}

export type Payment = AnswerOf<"GetPaymentsId">;
export type PaymentStatus = Payment["status"];
export type PaymentCreateParams = BodyOf<"PostPayments">;
export type PaymentCaptureParams = BodyOf<"PostPaymentsIdCapture">;
export type PaymentListParams = QueryOf<"GetPayments">;

export type Refund = AnswerOf<"GetRefundsId">;
export type RefundCreateParams = BodyOf<"PostPaymentsIdRefunds">;

export type Mandate = AnswerOf<"GetMandatesId">;
export type Account = AnswerOf<"GetAccount">;
export type AccountUpdateParams = BodyOf<"PostAccount">;
export type Balances = AnswerOf<"GetBalances">;
export type Balance = Balances["data"][number];
export type ApiKeyRollParams = BodyOf<"PostApiKeysRoll">;
export type RolledApiKey = AnswerOf<"PostApiKeysRoll">;

export type WebhookEndpoint = AnswerOf<"GetWebhookEndpointsId">;
export type WebhookEndpointCreateParams = BodyOf<"PostWebhookEndpoints">;
/** The endpoint as created: once the server answers it, with its own `whsec_` signing secret (shown only here). */
export type CreatedWebhookEndpoint = AnswerOf<"PostWebhookEndpoints"> & { secret?: string };
export type WebhookDelivery = AnswerOf<"GetWebhookEndpointsIdDeliveries">["data"][number];
// The routes below are being added to the server (issue 10, deliverable 5): until the types are regenerated from a
// server that has them, their shapes as that work defines them.
export type WebhookEndpointUpdateParams = LaterBody<
  "PostWebhookEndpointsId",
  { url?: string; enabledEvents?: EventType[]; description?: string }
>;
/** The test event's delivery after its one attempt: `status`, `lastStatusCode`, `lastError`. */
export type WebhookEndpointTestAnswer = LaterAnswer<"PostWebhookEndpointsIdTest", WebhookDelivery>;
export type WebhookSecretRotateParams = LaterBody<"PostWebhookEndpointsIdRotateSecret", { expiresInSeconds?: number }>;
/** The endpoint with its new `whsec_` secret, shown in this answer only. */
export type RotatedWebhookSecret = LaterAnswer<
  "PostWebhookEndpointsIdRotateSecret",
  WebhookEndpoint & { secret: string }
>;

export type EventType = NonNullable<QueryOf<"GetEvents">["type"]>;
export type EventListParams = QueryOf<"GetEvents">;
/** An event as the API answers it (`data` untyped); `Event` below narrows `data` by `type`. */
export type ApiEvent = AnswerOf<"GetEventsId">;

/** The payment inside an event or webhook: never its `sharedDetails` (docs/merchant-api.md "Webhooks"). */
export type EventPayment = Omit<Payment, "sharedDetails">;
interface EventData {
  "payment.authorized": { payment: EventPayment };
  "payment.captured": { payment: EventPayment };
  "payment.canceled": { payment: EventPayment };
  "payment.declined": { payment: EventPayment };
  "payment.expired": { payment: EventPayment };
  "refund.succeeded": { payment: EventPayment; refund: Refund; amountRefunded: number; amountRefundable: number };
  "mandate.created": { mandate: Mandate };
  "mandate.revoked": { mandate: Mandate };
  "webhook_endpoint.test": { webhookEndpoint: { id: string; url: string } };
}
/** Every type an event may have: the API's list, and the test event `webhookEndpoints.test(id)` sends. */
export type AnyEventType = EventType | "webhook_endpoint.test";
/** An event (a webhook's body, `GET /v1/events/{id}`), its `data` typed by its `type`: narrow with `switch (event.type)`. */
export type Event = {
  [T in AnyEventType]: Omit<ApiEvent, "type" | "data"> & {
    type: T;
    data: T extends keyof EventData ? EventData[T] : Record<string, unknown>;
  };
}[AnyEventType];
