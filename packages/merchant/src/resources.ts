/**
 * The merchant API's resources, split as stripe-node splits them (issue 10). Each method is one route of
 * docs/merchant-api.md; its parameter and answer types come from the server's OpenAPI document (types.ts).
 */
import { ListPromise, type Page } from "./pagination.ts";
import type { Query, RequestOptions, Transport } from "./transport.ts";
import type {
  Account,
  AccountUpdateParams,
  ApiEvent,
  ApiKeyRollParams,
  Balances,
  CreatedWebhookEndpoint,
  Event,
  EventListParams,
  ListAnswer,
  Mandate,
  Payment,
  PaymentCaptureParams,
  PaymentCreateParams,
  PaymentListParams,
  Refund,
  RefundCreateParams,
  RolledApiKey,
  RotatedWebhookSecret,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEndpointCreateParams,
  WebhookEndpointTestAnswer,
  WebhookEndpointUpdateParams,
  WebhookSecretRotateParams,
} from "./types.ts";

const id = (value: string) => encodeURIComponent(value);

function list<T extends { id: string }>(
  transport: Transport,
  path: string,
  query: Query = {},
  options?: RequestOptions,
): ListPromise<T> {
  return new ListPromise<T>(async (startingAfter) => {
    const answer = await transport.request<ListAnswer<T>>("GET", path, {
      query: { ...query, startingAfter: startingAfter ?? (query["startingAfter"] as string | undefined) },
      options,
    });
    return { data: answer.data, hasMore: answer.hasMore } satisfies Page<T>;
  });
}

export class Payments {
  constructor(private readonly transport: Transport) {}

  /** `POST /v1/payments`: the payment with its `checkoutUrl`. Pass your order id as `idempotencyKey` to never charge twice. */
  create(params: PaymentCreateParams, options?: RequestOptions): Promise<Payment> {
    return this.transport.request("POST", "/v1/payments", { body: params, options });
  }
  retrieve(paymentId: string, options?: RequestOptions): Promise<Payment> {
    return this.transport.request("GET", `/v1/payments/${id(paymentId)}`, { options });
  }
  /** Captures an authorized payment: all of it, or `{ amount }` (the rest of the hold is released). */
  capture(paymentId: string, params: PaymentCaptureParams = {}, options?: RequestOptions): Promise<Payment> {
    return this.transport.request("POST", `/v1/payments/${id(paymentId)}/capture`, { body: params, options });
  }
  /** Cancels before approval, or voids an authorization. */
  cancel(paymentId: string, options?: RequestOptions): Promise<Payment> {
    return this.transport.request("POST", `/v1/payments/${id(paymentId)}/cancel`, { body: {}, options });
  }
  /** Newest first: `await` for a page, `for await` for every payment. */
  list(params: PaymentListParams = {}, options?: RequestOptions): ListPromise<Payment> {
    return list<Payment>(this.transport, "/v1/payments", { ...params }, options);
  }
}

export class Refunds {
  constructor(private readonly transport: Transport) {}

  /** Refunds all that is still refundable, or `{ amount }` of it. */
  create(paymentId: string, params: RefundCreateParams = {}, options?: RequestOptions): Promise<Refund> {
    return this.transport.request("POST", `/v1/payments/${id(paymentId)}/refunds`, { body: params, options });
  }
  retrieve(refundId: string, options?: RequestOptions): Promise<Refund> {
    return this.transport.request("GET", `/v1/refunds/${id(refundId)}`, { options });
  }
  /** A payment's refunds. */
  list(paymentId: string, options?: RequestOptions): ListPromise<Refund> {
    return list<Refund>(this.transport, `/v1/payments/${id(paymentId)}/refunds`, {}, options);
  }
}

export class Events {
  constructor(private readonly transport: Transport) {}

  retrieve(eventId: string, options?: RequestOptions): Promise<Event> {
    return this.transport.request<ApiEvent>("GET", `/v1/events/${id(eventId)}`, { options }) as Promise<Event>;
  }
  list(params: EventListParams = {}, options?: RequestOptions): ListPromise<Event> {
    return list<Event>(this.transport, "/v1/events", { ...params }, options);
  }
}

export class WebhookEndpoints {
  constructor(private readonly transport: Transport) {}

  /** The endpoint; the answer is the only place its `whsec_` secret (and, with `signatures: ["v1", "v1a"]`, its `whpk_` key) shows. */
  create(params: WebhookEndpointCreateParams, options?: RequestOptions): Promise<CreatedWebhookEndpoint> {
    return this.transport.request("POST", "/v1/webhook-endpoints", { body: params, options });
  }
  list(options?: RequestOptions): ListPromise<WebhookEndpoint> {
    return list<WebhookEndpoint>(this.transport, "/v1/webhook-endpoints", {}, options);
  }
  retrieve(endpointId: string, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this.transport.request("GET", `/v1/webhook-endpoints/${id(endpointId)}`, { options });
  }
  update(endpointId: string, params: WebhookEndpointUpdateParams, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this.transport.request("POST", `/v1/webhook-endpoints/${id(endpointId)}`, { body: params, options });
  }
  /** Disables the endpoint (`DELETE`); its deliveries stop. */
  del(endpointId: string, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this.transport.request("DELETE", `/v1/webhook-endpoints/${id(endpointId)}`, { options });
  }
  /** Sends the endpoint a test event now. */
  test(endpointId: string, options?: RequestOptions): Promise<WebhookEndpointTestAnswer> {
    return this.transport.request("POST", `/v1/webhook-endpoints/${id(endpointId)}/test`, { body: {}, options });
  }
  /** A new `whsec_` secret; the old one keeps signing beside it for `expiresInSeconds`, so receivers switch without a gap. */
  rotateSecret(
    endpointId: string,
    params: WebhookSecretRotateParams = {},
    options?: RequestOptions,
  ): Promise<RotatedWebhookSecret> {
    return this.transport.request("POST", `/v1/webhook-endpoints/${id(endpointId)}/rotate-secret`, {
      body: params,
      options,
    });
  }
  /** An endpoint's deliveries and their last error. */
  deliveries(
    endpointId: string,
    params: { status?: WebhookDelivery["status"]; limit?: number } = {},
    options?: RequestOptions,
  ): Promise<ListAnswer<WebhookDelivery>> {
    return this.transport.request("GET", `/v1/webhook-endpoints/${id(endpointId)}/deliveries`, {
      query: params,
      options,
    });
  }
  /** Sends again a delivery that failed for good. */
  retryDelivery(deliveryId: string, options?: RequestOptions): Promise<WebhookDelivery> {
    return this.transport.request("POST", `/v1/webhook-deliveries/${id(deliveryId)}/retry`, { body: {}, options });
  }
}

export class BalancesResource {
  constructor(private readonly transport: Transport) {}
  retrieve(options?: RequestOptions): Promise<Balances> {
    return this.transport.request("GET", "/v1/balances", { options });
  }
}

export class ApiKeys {
  constructor(private readonly transport: Transport) {}
  /**
   * A new secret key; the current ones stop after `expiresInSeconds` (default at once). The answer holds the new
   * key and is never stored for replay: a lost answer cannot be fetched again, so roll again with a grace period.
   */
  roll(params: ApiKeyRollParams = {}, options?: RequestOptions): Promise<RolledApiKey> {
    return this.transport.request("POST", "/v1/api-keys/roll", { body: params, options });
  }
}

export class Mandates {
  constructor(private readonly transport: Transport) {}
  retrieve(mandateId: string, options?: RequestOptions): Promise<Mandate> {
    return this.transport.request("GET", `/v1/mandates/${id(mandateId)}`, { options });
  }
}

export class AccountResource {
  constructor(private readonly transport: Transport) {}
  retrieve(options?: RequestOptions): Promise<Account> {
    return this.transport.request("GET", "/v1/account", { options });
  }
  /** Replaces the origins `returnUrl` and `cancelUrl` may point at (and the checkout button may run on). */
  update(params: AccountUpdateParams, options?: RequestOptions): Promise<Account> {
    return this.transport.request("POST", "/v1/account", { body: params, options });
  }
}
