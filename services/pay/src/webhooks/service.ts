/** Webhook endpoints, the events log and delivery management (listing failures, re-sending). */
import { EVENT_TYPES, Secret, newId, type Mode } from "@mpay/protocol";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { KeyProvider } from "../keys/provider.ts";
import type { AuditService } from "../audit/service.ts";
import type { MerchantAuth, MerchantService } from "../merchants/service.ts";
import { generateWebhookSecret } from "../merchants/webhook-secret.ts";
import { signAndSend } from "./dispatch.ts";
import type { EndpointHealth } from "./endpoint-health.ts";
import { EndpointSecrets } from "./endpoint-secrets.ts";
import { generateV1aKeyPair } from "./signing.ts";
import { validateWebhookUrl } from "./url-guard.ts";
import { eventBody } from "./worker.ts";
import {
  deliveryBacklog,
  deliveriesOfEvents,
  eventsAboutPayment,
  findDelivery,
  findEndpoint,
  findEvent,
  insertEndpoint,
  insertTestDelivery,
  lockEndpoint,
  markAttemptFailed,
  markDelivered,
  updateEndpoint,
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

export { v1aKeyAad } from "./service-aad.ts";
import { v1aKeyAad } from "./service-aad.ts";

/** The type of the event `POST /v1/webhook-endpoints/{id}/test` sends: to that endpoint alone, never fanned out. */
export const TEST_EVENT_TYPE = "webhook_endpoint.test";

/** How long a rotated-out secret keeps signing by default (Stripe's choice too), and at most. */
export const DEFAULT_SECRET_OVERLAP_SECONDS = 86_400;
export const MAX_SECRET_OVERLAP_SECONDS = 7 * 86_400;

export interface CreateEndpointInput {
  url: string;
  enabledEvents?: string[] | undefined;
  description?: string | null | undefined;
  /** `v1` (HMAC, always) and optionally `v1a` (Ed25519, so a stolen database cannot forge webhooks). */
  signatures?: Array<"v1" | "v1a"> | undefined;
}

export interface UpdateEndpointInput {
  url?: string | undefined;
  enabledEvents?: string[] | undefined;
  description?: string | null | undefined;
}

/** An endpoint with the `whsec_` secret it was just given: answered once, never stored in clear. */
export interface EndpointWithSecret {
  endpoint: EndpointRow;
  secret: Secret<string>;
}

function checkedUrl(url: string, mode: Mode): string {
  const check = validateWebhookUrl(url, mode);
  if (!check.ok) throw new ApiError(check.code, check.message, "url");
  return check.url.toString();
}

function checkedEvents(list: string[] | undefined): string[] {
  const enabledEvents = list && list.length > 0 ? [...new Set(list)] : ["*"];
  for (const type of enabledEvents) {
    if (type !== "*" && !(EVENT_TYPES as readonly string[]).includes(type)) {
      throw new ApiError(
        "parameter_invalid",
        `Unknown event type ${JSON.stringify(type.slice(0, 40))}; use one of ${EVENT_TYPES.join(", ")} or "*".`,
        "enabledEvents",
      );
    }
  }
  return enabledEvents;
}

/** Free text the dashboard shows: plain text only, as every free-text field (docs/merchant-api.md, Conventions). */
function checkedDescription(text: string | null | undefined): string | null {
  if (text === undefined || text === null || text.trim() === "") return null;
  if (/[<>\p{Cc}]/u.test(text))
    throw new ApiError(
      "text_contains_markup",
      "description must be plain text: no <, > or control characters.",
      "description",
    );
  return text.trim();
}

export class WebhookService {
  private readonly secrets: EndpointSecrets;

  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    private readonly audit: AuditService,
    merchants: MerchantService,
    /** Shared with the delivery worker: a test event's success also stops an endpoint's failing-since clock. */
    private readonly health: EndpointHealth,
    /** A test event's one attempt waits this long for the endpoint's answer (the worker's timeout). */
    private readonly timeoutMs = 10_000,
  ) {
    this.secrets = new EndpointSecrets(keys, merchants);
  }

  /** Every merchant's deliveries pending and failed: counts and the oldest (the operator console's backlog). */
  backlog(): Promise<{ status: "pending" | "failed"; count: number; oldest: Date | null }[]> {
    return deliveryBacklog(this.db);
  }

  /**
   * Makes an endpoint with its own `whsec_` secret, answered here once and never again. `useAccountSecret` (the
   * operator's `mpay merchant create --webhook-url` alone) makes it sign with the merchant's account secret instead,
   * the one that command prints; no secret is then answered.
   */
  async createEndpoint(
    tx: Executor,
    auth: MerchantAuth,
    input: CreateEndpointInput,
    options: { useAccountSecret?: boolean; actor?: string } = {},
  ): Promise<EndpointWithSecret | { endpoint: EndpointRow; secret: null }> {
    const url = checkedUrl(input.url, auth.mode);
    const enabledEvents = checkedEvents(input.enabledEvents);
    const description = checkedDescription(input.description);
    const id = newId("webhookEndpoint");
    let v1aPublicKey: string | null = null;
    let v1aSealedPrivateKey: string | null = null;
    if (input.signatures?.includes("v1a")) {
      const pair = generateV1aKeyPair();
      v1aPublicKey = pair.publicKey;
      v1aSealedPrivateKey = await this.keys.seal("webhook-signing-key", pair.privateKey, v1aKeyAad(id));
      pair.privateKey.fill(0);
    }
    const secret = options.useAccountSecret ? null : new Secret(generateWebhookSecret());
    const row = await insertEndpoint(tx, {
      id,
      merchantId: auth.merchantId,
      mode: auth.mode,
      url,
      enabledEvents,
      description,
      status: "enabled",
      v1aPublicKey,
      v1aSealedPrivateKey,
      sealedSecret: secret ? await this.secrets.seal(id, secret.peek()) : null,
    });
    await this.audit.append(tx, {
      actor: options.actor ?? auth.actor,
      action: "webhook_endpoint.created",
      target: id,
      data: { mode: auth.mode, url: row.url, v1a: v1aPublicKey !== null, ownSecret: secret !== null },
    });
    return { endpoint: row, secret };
  }

  /** Changes url, events or description; the url passes the same guard as at creation. Audited. */
  async updateEndpoint(tx: Executor, auth: MerchantAuth, id: string, input: UpdateEndpointInput): Promise<EndpointRow> {
    const before = await this.endpoint(auth, id, tx);
    const set: UpdateEndpointInput = {};
    if (input.url !== undefined) set.url = checkedUrl(input.url, auth.mode);
    if (input.enabledEvents !== undefined) set.enabledEvents = checkedEvents(input.enabledEvents);
    if (input.description !== undefined) set.description = checkedDescription(input.description);
    const after = Object.keys(set).length > 0 ? await updateEndpoint(tx, id, set) : before;
    await this.audit.append(tx, {
      actor: auth.actor,
      action: "webhook_endpoint.updated",
      target: id,
      data: {
        mode: auth.mode,
        changed: Object.keys(set).sort(),
        ...(set.url !== undefined ? { urlBefore: before.url, url: after.url } : {}),
        ...(set.enabledEvents !== undefined ? { enabledEvents: after.enabledEvents } : {}),
      },
    });
    return after;
  }

  /**
   * Gives the endpoint a new secret. The old one keeps signing beside it (a second `v1,` signature on every
   * delivery) for `overlapSeconds` (0: it stops at once), so the merchant deploys the new secret without losing a
   * webhook. A rotation during an overlap drops the oldest secret: at most two sign at any time.
   */
  async rotateSecret(
    tx: Executor,
    auth: MerchantAuth,
    id: string,
    overlapSeconds: number,
  ): Promise<EndpointWithSecret> {
    if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > MAX_SECRET_OVERLAP_SECONDS)
      throw new ApiError(
        "parameter_invalid",
        `expiresInSeconds must be an integer from 0 to ${MAX_SECRET_OVERLAP_SECONDS} (7 days).`,
        "expiresInSeconds",
      );
    const before = await lockEndpoint(tx, auth.merchantId, auth.mode, id);
    if (!before) throw new ApiError("resource_missing", `No such webhook endpoint: ${id.slice(0, 40)}.`, "id");
    const previousExpiresAt = overlapSeconds > 0 ? new Date(Date.now() + overlapSeconds * 1000) : null;
    const previous = previousExpiresAt
      ? await this.secrets.sealedCurrent({ ...before, previousSealedSecret: null }, tx)
      : null;
    const secret = new Secret(generateWebhookSecret());
    const endpoint = await updateEndpoint(tx, id, {
      sealedSecret: await this.secrets.seal(id, secret.peek()),
      previousSealedSecret: previous,
      previousSecretExpiresAt: previousExpiresAt,
    });
    await this.audit.append(tx, {
      actor: auth.actor,
      action: "webhook_endpoint.secret_rotated",
      target: id,
      data: { mode: auth.mode, previousSecretExpiresAt: previousExpiresAt?.toISOString() ?? null },
    });
    return { endpoint, secret };
  }

  /**
   * Sends a `webhook_endpoint.test` event to this endpoint alone, signed as any delivery, and waits for its answer
   * (one attempt, no retry: the answer is the test). The delivery is recorded like the others and can be re-sent.
   * Needs an enabled endpoint.
   */
  async testEndpoint(tx: Executor, auth: MerchantAuth, id: string): Promise<DeliveryRow> {
    const endpoint = await this.endpoint(auth, id, tx);
    if (endpoint.status !== "enabled")
      throw new ApiError(
        "webhook_endpoint_disabled",
        "The endpoint is disabled; a test event needs an enabled one.",
        "id",
      );
    const { event, delivery } = await insertTestDelivery(tx, {
      eventId: newId("event"),
      deliveryId: newId("delivery"),
      endpoint,
      type: TEST_EVENT_TYPE,
      data: { webhookEndpoint: { id: endpoint.id, url: endpoint.url } },
    });
    const body = eventBody({
      eventId: event.id,
      eventType: event.type,
      eventCreatedAt: event.createdAt.toISOString(),
      mode: event.mode,
      eventData: event.data,
    });
    const live = endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > new Date();
    const result = await signAndSend(
      this.keys,
      this.secrets,
      {
        id: delivery.id,
        body,
        url: endpoint.url,
        endpointId: endpoint.id,
        merchantId: endpoint.merchantId,
        mode: endpoint.mode,
        sealedSecret: endpoint.sealedSecret,
        previousSealedSecret: live ? endpoint.previousSealedSecret : null,
        v1aSealedPrivateKey: endpoint.v1aSealedPrivateKey,
      },
      this.timeoutMs,
      tx,
    );
    if (result.ok)
      await this.health.succeeded(tx, endpoint.id, () => markDelivered(tx, delivery.id, result.statusCode ?? 200));
    // A failed test does not start the failing-since clock: that clock counts the deliveries of real events.
    else
      await markAttemptFailed(tx, delivery.id, {
        statusCode: result.statusCode ?? null,
        error: result.error ?? "failed",
        retryAt: null,
      });
    return (await findDelivery(tx, auth.merchantId, delivery.id))!;
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

  /** The merchant's own disable (DELETE): nothing more is sent; pending deliveries end failed. Audited. */
  async disableEndpoint(auth: MerchantAuth, id: string): Promise<EndpointRow> {
    await this.endpoint(auth, id);
    return this.db.transaction(async (tx) => {
      const before = await lockEndpoint(tx, auth.merchantId, auth.mode, id);
      // Already disabled (by the merchant or for failing): keep when and why it was.
      if (before?.status === "disabled") return before;
      const row = await setEndpointStatus(tx, id, {
        status: "disabled",
        at: this.health.clock.now(),
        reason: "merchant",
      });
      await failPendingDeliveries(tx, id, "endpoint disabled");
      await this.audit.append(tx, {
        actor: auth.actor,
        action: "webhook_endpoint.disabled",
        target: id,
        data: { mode: auth.mode, reason: "merchant" },
      });
      return row;
    });
  }

  /**
   * Enables a disabled endpoint again (after the merchant fixed it), with a fresh failing-since clock: new events
   * are delivered to it again, and its failed deliveries can be re-sent. Enabling an enabled endpoint changes
   * nothing. Audited.
   */
  async enableEndpoint(tx: Executor, auth: MerchantAuth, id: string): Promise<EndpointRow> {
    const before = await lockEndpoint(tx, auth.merchantId, auth.mode, id);
    if (!before) throw new ApiError("resource_missing", `No such webhook endpoint: ${id.slice(0, 40)}.`, "id");
    if (before.status === "enabled") return before;
    const row = await setEndpointStatus(tx, id, { status: "enabled" });
    await this.audit.append(tx, {
      actor: auth.actor,
      action: "webhook_endpoint.enabled",
      target: id,
      data: {
        mode: auth.mode,
        disabledReason: before.disabledReason,
        disabledAt: before.disabledAt?.toISOString() ?? null,
      },
    });
    return row;
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
