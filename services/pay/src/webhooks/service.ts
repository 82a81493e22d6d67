/** Webhook endpoints, the events log and delivery management (listing failures, re-sending). */
import { EVENT_TYPES, newId, type Mode } from "@mpay/protocol";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { KeyProvider } from "../keys/provider.ts";
import type { AuditService } from "../audit/service.ts";
import type { MerchantAuth } from "../merchants/service.ts";
import { generateV1aKeyPair } from "./signing.ts";
import { validateWebhookUrl } from "./url-guard.ts";
import {
  deliveriesOfEvents,
  eventsAboutPayment,
  findDelivery,
  findEndpoint,
  findEvent,
  insertEndpoint,
  listDeliveries,
  listEndpoints,
  listEvents,
  requeueDelivery,
  failPendingDeliveries,
  setEndpointStatus,
  type DeliveryRow,
  type EndpointRow,
  type EventRow,
} from "./store.ts";

export function v1aKeyAad(endpointId: string): string {
  return `webhook-v1a|${endpointId}`;
}

export interface CreateEndpointInput {
  url: string;
  enabledEvents?: string[];
  /** `v1` (HMAC, always) and optionally `v1a` (Ed25519, so a stolen database cannot forge webhooks). */
  signatures?: Array<"v1" | "v1a">;
}

export class WebhookService {
  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    private readonly audit: AuditService,
  ) {}

  /** The endpoint answer holds no secret: the merchant's whsec_ secret is given once, by `mpay merchant create`. */
  async createEndpoint(tx: Executor, auth: MerchantAuth, input: CreateEndpointInput): Promise<EndpointRow> {
    const check = validateWebhookUrl(input.url, auth.mode);
    if (!check.ok) throw new ApiError(check.code, check.message, "url");
    const enabledEvents =
      input.enabledEvents && input.enabledEvents.length > 0 ? [...new Set(input.enabledEvents)] : ["*"];
    for (const type of enabledEvents) {
      if (type !== "*" && !(EVENT_TYPES as readonly string[]).includes(type)) {
        throw new ApiError(
          "parameter_invalid",
          `Unknown event type ${JSON.stringify(type.slice(0, 40))}; use one of ${EVENT_TYPES.join(", ")} or "*".`,
          "enabledEvents",
        );
      }
    }
    const id = newId("webhookEndpoint");
    let v1aPublicKey: string | null = null;
    let v1aSealedPrivateKey: string | null = null;
    if (input.signatures?.includes("v1a")) {
      const pair = generateV1aKeyPair();
      v1aPublicKey = pair.publicKey;
      v1aSealedPrivateKey = await this.keys.seal("webhook-signing-key", pair.privateKey, v1aKeyAad(id));
      pair.privateKey.fill(0);
    }
    const row = await insertEndpoint(tx, {
      id,
      merchantId: auth.merchantId,
      mode: auth.mode,
      url: check.url.toString(),
      enabledEvents,
      status: "enabled",
      v1aPublicKey,
      v1aSealedPrivateKey,
    });
    await this.audit.append(tx, {
      actor: auth.actor,
      action: "webhook_endpoint.created",
      target: id,
      data: { mode: auth.mode, url: row.url, v1a: v1aPublicKey !== null },
    });
    return row;
  }

  listEndpoints(auth: MerchantAuth): Promise<EndpointRow[]> {
    return listEndpoints(this.db, auth.merchantId, auth.mode);
  }

  /** `db` is the caller's transaction when there is one: on PGlite a query beside an open transaction would wait for it forever. */
  async endpoint(auth: MerchantAuth, id: string, db: Executor = this.db): Promise<EndpointRow> {
    const row = await findEndpoint(db, auth.merchantId, auth.mode, id);
    if (!row) throw new ApiError("resource_missing", `No such webhook endpoint: ${id.slice(0, 40)}.`, "id");
    return row;
  }

  async disableEndpoint(auth: MerchantAuth, id: string): Promise<EndpointRow> {
    await this.endpoint(auth, id);
    return this.db.transaction(async (tx) => {
      const row = await setEndpointStatus(tx, id, "disabled");
      await failPendingDeliveries(tx, id, "endpoint disabled");
      return row;
    });
  }

  async deliveries(
    auth: MerchantAuth,
    endpointId: string,
    status?: DeliveryRow["status"],
    limit = 50,
  ): Promise<DeliveryRow[]> {
    await this.endpoint(auth, endpointId);
    return listDeliveries(this.db, { merchantId: auth.merchantId, endpointId, limit, ...(status ? { status } : {}) });
  }

  /** Re-sends a delivery that failed for good; a pending or delivered one is refused (it is in flight or done). */
  async retryDelivery(tx: Executor, auth: MerchantAuth, id: string): Promise<DeliveryRow> {
    const row = await findDelivery(tx, auth.merchantId, id);
    if (!row) throw new ApiError("resource_missing", `No such webhook delivery: ${id.slice(0, 40)}.`, "id");
    const endpoint = await this.endpoint(auth, row.endpointId, tx);
    if (row.status !== "failed")
      throw new ApiError("delivery_not_retryable", `Only failed deliveries can be re-sent; this one is ${row.status}.`);
    if (endpoint.status !== "enabled") throw new ApiError("delivery_not_retryable", "The endpoint is disabled.");
    const requeued = await requeueDelivery(tx, id);
    if (!requeued)
      throw new ApiError("delivery_not_retryable", "The delivery is no longer failed (another retry got there first).");
    return requeued;
  }

  listEvents(
    auth: MerchantAuth,
    q: { limit: number; startingAfter?: string; type?: string },
  ): Promise<{ rows: EventRow[]; hasMore: boolean }> {
    return listEvents(this.db, { merchantId: auth.merchantId, mode: auth.mode, ...q });
  }

  async event(auth: MerchantAuth, id: string): Promise<EventRow> {
    const row = await findEvent(this.db, auth.merchantId, auth.mode as Mode, id);
    if (!row) throw new ApiError("resource_missing", `No such event: ${id.slice(0, 40)}.`, "id");
    return row;
  }

  /** The events about one payment of this merchant and mode, oldest first (at most `limit`). */
  eventsAboutPayment(auth: MerchantAuth, paymentId: string, limit = 200): Promise<EventRow[]> {
    return eventsAboutPayment(this.db, { merchantId: auth.merchantId, mode: auth.mode, paymentId, limit });
  }

  /** The deliveries of these events to this merchant's endpoints, oldest first: their answers and retry state. */
  deliveriesOfEvents(auth: MerchantAuth, eventIds: readonly string[]): Promise<DeliveryRow[]> {
    return deliveriesOfEvents(this.db, auth.merchantId, eventIds);
  }
}
