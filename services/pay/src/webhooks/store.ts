import { and, asc, desc, eq, inArray, isNotNull, lt, sql } from "drizzle-orm";
import type { Mode } from "@mpay/protocol";
import { queryRows, type Executor } from "../db/client.ts";
import { events, webhookDeliveries, webhookEndpoints } from "./schema.ts";

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type EventRow = typeof events.$inferSelect;

export async function insertEndpoint(db: Executor, row: typeof webhookEndpoints.$inferInsert): Promise<EndpointRow> {
  const [inserted] = await db.insert(webhookEndpoints).values(row).returning();
  return inserted!;
}

export async function findEndpoint(
  db: Executor,
  merchantId: string,
  mode: Mode,
  id: string,
): Promise<EndpointRow | null> {
  const rows = await db
    .select()
    .from(webhookEndpoints)
    .where(
      and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.merchantId, merchantId), eq(webhookEndpoints.mode, mode)),
    );
  return rows[0] ?? null;
}

export async function listEndpoints(db: Executor, merchantId: string, mode: Mode): Promise<EndpointRow[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.merchantId, merchantId), eq(webhookEndpoints.mode, mode)))
    .orderBy(desc(webhookEndpoints.id));
}

/** A disabled endpoint's pending deliveries end as failed: nothing more goes to a URL the merchant removed. */
export async function failPendingDeliveries(db: Executor, endpointId: string, reason: string): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({ status: "failed", lastError: reason, leaseUntil: null })
    .where(and(eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.status, "pending")));
}

/** Changes an endpoint's fields (url, events, description, secrets); returns the row as it now is. */
export async function updateEndpoint(
  db: Executor,
  id: string,
  set: Partial<Omit<typeof webhookEndpoints.$inferInsert, "id" | "merchantId" | "mode" | "createdAt">>,
): Promise<EndpointRow> {
  const [row] = await db.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id)).returning();
  return row!;
}

/** The endpoint, locked for the caller's transaction: two rotations at once would each keep a different "previous". */
export async function lockEndpoint(
  db: Executor,
  merchantId: string,
  mode: Mode,
  id: string,
): Promise<EndpointRow | null> {
  const rows = await db
    .select()
    .from(webhookEndpoints)
    .where(
      and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.merchantId, merchantId), eq(webhookEndpoints.mode, mode)),
    )
    .for("update");
  return rows[0] ?? null;
}

/**
 * A test event and its one delivery, to one endpoint alone (not fanned out as emitEvent does), already counted as
 * its first attempt: the caller sends it at once and records the outcome.
 */
export async function insertTestDelivery(
  db: Executor,
  e: { eventId: string; deliveryId: string; endpoint: EndpointRow; type: string; data: Record<string, unknown> },
): Promise<{ event: EventRow; delivery: DeliveryRow }> {
  const [event] = await db
    .insert(events)
    .values({ id: e.eventId, merchantId: e.endpoint.merchantId, mode: e.endpoint.mode, type: e.type, data: e.data })
    .returning();
  const [delivery] = await db
    .insert(webhookDeliveries)
    .values({
      id: e.deliveryId,
      eventId: e.eventId,
      endpointId: e.endpoint.id,
      merchantId: e.endpoint.merchantId,
      status: "pending",
      attempts: 1,
      // Not the worker's: it would only see the row after this transaction, which records the outcome first.
      nextAttemptAt: sql`now() + interval '1 hour'`,
    })
    .returning();
  return { event: event!, delivery: delivery! };
}

/** Disables an endpoint (stamped with when and why) or enables it again with a fresh failing-since clock. */
export async function setEndpointStatus(
  db: Executor,
  id: string,
  change: { status: "enabled" } | { status: "disabled"; at: Date; reason: "merchant" | "auto_disabled" },
): Promise<EndpointRow> {
  const set =
    change.status === "enabled"
      ? { status: "enabled" as const, disabledAt: null, disabledReason: null, failingSince: null }
      : { status: "disabled" as const, disabledAt: change.at, disabledReason: change.reason };
  const [row] = await db.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id)).returning();
  return row!;
}

/** Starts the endpoint's failing-since clock unless it already runs; the endpoint as it now is. */
export async function noteEndpointFailure(db: Executor, id: string, at: Date): Promise<EndpointRow | null> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${at.toISOString()}::timestamptz)` })
    .where(eq(webhookEndpoints.id, id))
    .returning();
  return row ?? null;
}

/** Any success stops the failing-since clock (a no-op for an endpoint that answers, the usual case). */
export async function clearEndpointFailure(db: Executor, id: string): Promise<void> {
  await db
    .update(webhookEndpoints)
    .set({ failingSince: null })
    .where(and(eq(webhookEndpoints.id, id), isNotNull(webhookEndpoints.failingSince)));
}

/**
 * Disables an endpoint that failed too long, only if it is still enabled: of two workers failing at once (or a
 * merchant disabling it meanwhile) one alone disables it, so the event and audit entry are written once.
 */
export async function autoDisableEndpoint(db: Executor, id: string, at: Date): Promise<EndpointRow | null> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ status: "disabled", disabledAt: at, disabledReason: "auto_disabled" })
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.status, "enabled")))
    .returning();
  return row ?? null;
}

export async function listEvents(
  db: Executor,
  f: { merchantId: string; mode: Mode; limit: number; startingAfter?: string; type?: string },
): Promise<{ rows: EventRow[]; hasMore: boolean }> {
  const conditions = [eq(events.merchantId, f.merchantId), eq(events.mode, f.mode)];
  if (f.startingAfter) conditions.push(lt(events.id, f.startingAfter));
  if (f.type) conditions.push(eq(events.type, f.type));
  const rows = await db
    .select()
    .from(events)
    .where(and(...conditions))
    .orderBy(desc(events.id))
    .limit(f.limit + 1);
  return { rows: rows.slice(0, f.limit), hasMore: rows.length > f.limit };
}

export async function findEvent(db: Executor, merchantId: string, mode: Mode, id: string): Promise<EventRow | null> {
  const rows = await db
    .select()
    .from(events)
    .where(and(eq(events.id, id), eq(events.merchantId, merchantId), eq(events.mode, mode)));
  return rows[0] ?? null;
}

export async function listDeliveries(
  db: Executor,
  f: { merchantId: string; endpointId: string; status?: DeliveryRow["status"]; limit: number },
): Promise<DeliveryRow[]> {
  const conditions = [eq(webhookDeliveries.merchantId, f.merchantId), eq(webhookDeliveries.endpointId, f.endpointId)];
  if (f.status) conditions.push(eq(webhookDeliveries.status, f.status));
  return db
    .select()
    .from(webhookDeliveries)
    .where(and(...conditions))
    .orderBy(desc(webhookDeliveries.createdAt))
    .limit(f.limit);
}

export async function findDelivery(db: Executor, merchantId: string, id: string): Promise<DeliveryRow | null> {
  const rows = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.merchantId, merchantId)));
  return rows[0] ?? null;
}

/**
 * Makes a failed delivery due again now, with a fresh attempt budget. Only a row still `failed` changes, so two
 * overlapping retries (or a retry racing the worker) cannot reset a delivery that is already being sent.
 */
export async function requeueDelivery(db: Executor, id: string): Promise<DeliveryRow | null> {
  const [row] = await db
    .update(webhookDeliveries)
    .set({ status: "pending", attempts: 0, nextAttemptAt: sql`now()`, leaseUntil: null })
    .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.status, "failed")))
    .returning();
  return row ?? null;
}

export interface ClaimedDelivery {
  id: string;
  attempts: number;
  /** When the delivery was made: its retries stop at createdAt + the retry horizon. */
  createdAt: Date;
  merchantId: string;
  mode: Mode;
  url: string;
  endpointId: string;
  v1aSealedPrivateKey: string | null;
  sealedSecret: string | null;
  /** Null once the rotation's overlap has ended. */
  previousSealedSecret: string | null;
  eventId: string;
  eventType: string;
  eventData: Record<string, unknown>;
  eventCreatedAt: string;
}

/**
 * Claims due deliveries for one worker: SKIP LOCKED lets several workers (and processes) share the outbox, and
 * moving `next_attempt_at` forward by the lease makes a delivery whose worker died mid-send due again by itself.
 */
export async function claimDue(
  db: Executor,
  limit: number,
  leaseSeconds: number,
  now: Date,
): Promise<ClaimedDelivery[]> {
  // `now` is the injected clock's, not the database's, so a test that moves the clock by days finds retries due.
  const at = sql`${now.toISOString()}::timestamptz`;
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`
    with due as (
      select d.id from webhook_deliveries d join webhook_endpoints w on w.id = d.endpoint_id
      where d.status = 'pending' and d.next_attempt_at <= ${at} and w.status = 'enabled'
      order by d.next_attempt_at
      limit ${limit}
      for update of d skip locked
    ), claimed as (
      update webhook_deliveries d
      set attempts = d.attempts + 1,
          lease_until = ${at} + make_interval(secs => ${leaseSeconds}),
          next_attempt_at = ${at} + make_interval(secs => ${leaseSeconds})
      from due where d.id = due.id
      returning d.id, d.attempts, d.event_id, d.endpoint_id, d.created_at
    )
    select c.id, c.attempts, c.endpoint_id, c.created_at, e.id as event_id, e.type as event_type,
           e.data as event_data, e.created_at as event_created_at, e.merchant_id, e.mode, w.url,
           w.v1a_sealed_private_key, w.sealed_secret,
           case when w.previous_secret_expires_at > ${at} then w.previous_sealed_secret end as previous_sealed_secret
    from claimed c join events e on e.id = c.event_id join webhook_endpoints w on w.id = c.endpoint_id`,
  );
  return rows.map((r) => ({
    id: r["id"] as string,
    attempts: Number(r["attempts"]),
    createdAt: new Date(r["created_at"] as string | Date),
    endpointId: r["endpoint_id"] as string,
    merchantId: r["merchant_id"] as string,
    mode: r["mode"] as Mode,
    url: r["url"] as string,
    v1aSealedPrivateKey: (r["v1a_sealed_private_key"] as string | null) ?? null,
    sealedSecret: (r["sealed_secret"] as string | null) ?? null,
    previousSealedSecret: (r["previous_sealed_secret"] as string | null) ?? null,
    eventId: r["event_id"] as string,
    eventType: r["event_type"] as string,
    eventData: (typeof r["event_data"] === "string"
      ? JSON.parse(r["event_data"] as string)
      : r["event_data"]) as Record<string, unknown>,
    eventCreatedAt: new Date(r["event_created_at"] as string | Date).toISOString(),
  }));
}

export async function markDelivered(db: Executor, id: string, statusCode: number): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({
      status: "succeeded",
      deliveredAt: sql`now()`,
      leaseUntil: null,
      lastStatusCode: statusCode,
      lastError: null,
    })
    .where(eq(webhookDeliveries.id, id));
}

export async function markAttemptFailed(
  db: Executor,
  id: string,
  outcome: { statusCode: number | null; error: string; retryAt: Date | null },
): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({
      status: outcome.retryAt ? "pending" : "failed",
      nextAttemptAt: outcome.retryAt ?? sql`now()`,
      leaseUntil: null,
      lastStatusCode: outcome.statusCode,
      lastError: outcome.error,
    })
    .where(eq(webhookDeliveries.id, id));
}

/** The events whose `data.payment` is this payment, oldest first (a payment's timeline). */
export async function eventsAboutPayment(
  db: Executor,
  f: { merchantId: string; mode: Mode; paymentId: string; limit: number },
): Promise<EventRow[]> {
  return db
    .select()
    .from(events)
    .where(
      and(
        eq(events.merchantId, f.merchantId),
        eq(events.mode, f.mode),
        sql`${events.data} -> 'payment' ->> 'id' = ${f.paymentId}`,
      ),
    )
    .orderBy(asc(events.id))
    .limit(f.limit);
}

/** The deliveries of these events, one merchant's only, oldest first. */
export async function deliveriesOfEvents(
  db: Executor,
  merchantId: string,
  eventIds: readonly string[],
): Promise<DeliveryRow[]> {
  if (eventIds.length === 0) return [];
  return db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.merchantId, merchantId), inArray(webhookDeliveries.eventId, [...eventIds])))
    .orderBy(asc(webhookDeliveries.createdAt), asc(webhookDeliveries.id));
}

/** Deliveries pending (still to be sent, or retrying) and failed (given up): how many, and the oldest's creation. */
export async function deliveryBacklog(
  db: Executor,
): Promise<{ status: "pending" | "failed"; count: number; oldest: Date | null }[]> {
  const rows = await queryRows<{ status: "pending" | "failed"; count: number | string; oldest: Date | string | null }>(
    db,
    sql`select status, count(*) as count, min(created_at) as oldest from webhook_deliveries
        where status in ('pending', 'failed') group by status`,
  );
  return (["pending", "failed"] as const).map((status) => {
    const row = rows.find((r) => r.status === status);
    return { status, count: Number(row?.count ?? 0), oldest: row?.oldest ? new Date(row.oldest) : null };
  });
}
