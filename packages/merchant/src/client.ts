/**
 * `new MPay({ secretKey, baseUrl })`: the merchant API's resources on one client, as stripe-node's `new Stripe(key)`.
 */
import {
  AccountResource,
  ApiKeys,
  BalancesResource,
  Events,
  Mandates,
  Payments,
  Refunds,
  WebhookEndpoints,
} from "./resources.ts";
import { Transport, type TransportOptions } from "./transport.ts";
import { Webhooks } from "./webhooks.ts";

export type MPayOptions = TransportOptions;

export class MPay {
  readonly payments: Payments;
  readonly refunds: Refunds;
  readonly events: Events;
  readonly webhookEndpoints: WebhookEndpoints;
  readonly balances: BalancesResource;
  readonly apiKeys: ApiKeys;
  readonly mandates: Mandates;
  readonly account: AccountResource;
  readonly webhooks = new Webhooks();
  readonly #transport: Transport;

  constructor(options: MPayOptions) {
    this.#transport = new Transport(options);
    this.payments = new Payments(this.#transport);
    this.refunds = new Refunds(this.#transport);
    this.events = new Events(this.#transport);
    this.webhookEndpoints = new WebhookEndpoints(this.#transport);
    this.balances = new BalancesResource(this.#transport);
    this.apiKeys = new ApiKeys(this.#transport);
    this.mandates = new Mandates(this.#transport);
    this.account = new AccountResource(this.#transport);
  }
}
