/**
 * A payment's timeline (the dashboard's payment page): what happened to it and when, from its own columns, its
 * refunds, the events about it and the webhook deliveries of those events with the endpoint's answer. Pure: the
 * service loads the rows through each context's service and this orders them, oldest first (newest last).
 */
import { z } from "zod";
import { PAYMENT_STATUSES } from "@mpay/protocol";

export const timelineEntrySchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("status"),
    at: z.string(),
    status: z.enum(PAYMENT_STATUSES).describe("The state the payment entered"),
    amount: z.number().int().describe("The amount of that step: asked, authorized, captured or released"),
    declineCode: z.string().nullable(),
  }),
  z.object({
    type: z.literal("refund"),
    at: z.string(),
    refundId: z.string(),
    amount: z.number().int(),
    reason: z.string().nullable(),
  }),
  z.object({ type: z.literal("event"), at: z.string(), eventId: z.string(), eventType: z.string() }),
  z.object({
    type: z.literal("webhook_delivery"),
    at: z.string().describe("When it was delivered, else when it was queued"),
    deliveryId: z.string().describe("The webhook-id of the message"),
    eventId: z.string(),
    eventType: z.string(),
    endpointId: z.string(),
    status: z.enum(["pending", "succeeded", "failed"]),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable().describe("The endpoint's last HTTP status, null if none came"),
    lastError: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    retry: z
      .string()
      .nullable()
      .describe("POST here to send it again (`/v1/webhook-deliveries/{id}/retry`); only when it failed for good"),
  }),
]);

export const timelineSchema = z.object({
  object: z.literal("payment_timeline"),
  paymentId: z.string(),
  currency: z.string(),
  data: z.array(timelineEntrySchema),
});

export type TimelineEntry = z.infer<typeof timelineEntrySchema>;
export type Timeline = z.infer<typeof timelineSchema>;

export interface TimelinePayment {
  id: string;
  status: string;
  amount: number;
  currency: string;
  amountCaptured: number;
  declineCode: string | null;
  createdAt: Date;
  authorizedAt: Date | null;
  capturedAt: Date | null;
  canceledAt: Date | null;
  updatedAt: Date;
}

export interface TimelineRefund {
  id: string;
  amount: number;
  reason: string | null;
  createdAt: Date;
}

export interface TimelineEvent {
  id: string;
  type: string;
  createdAt: Date;
}

export interface TimelineDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** Within one moment: the state change first, then what reports it, then its delivery. */
const ORDER: Record<TimelineEntry["type"], number> = { status: 0, refund: 1, event: 2, webhook_delivery: 3 };

/** The state a payment event reports. */
const EVENT_STATUS: Record<string, (typeof PAYMENT_STATUSES)[number]> = {
  "payment.authorized": "authorized",
  "payment.captured": "captured",
  "payment.canceled": "canceled",
  "payment.declined": "declined",
  "payment.expired": "expired",
};

export function buildTimeline(
  payment: TimelinePayment,
  refunds: readonly TimelineRefund[],
  events: readonly TimelineEvent[],
  deliveries: readonly TimelineDelivery[],
): Timeline {
  const entries: Array<TimelineEntry & { order: number; seq: number }> = [];
  const add = (entry: TimelineEntry) => entries.push({ ...entry, order: ORDER[entry.type], seq: entries.length });
  const status = (at: Date, s: (typeof PAYMENT_STATUSES)[number], amount: number) =>
    add({
      type: "status",
      at: at.toISOString(),
      status: s,
      amount,
      declineCode: s === "declined" ? payment.declineCode : null,
    });

  // A state change's time is its event's (written in the change's transaction, at the database's clock, as the
  // refunds and deliveries are), so the change sorts before the event that reports it; else its column's.
  const reportedAt = new Map<string, Date>();
  for (const event of events) {
    const s = EVENT_STATUS[event.type];
    if (s && !reportedAt.has(s)) reportedAt.set(s, event.createdAt);
  }
  status(payment.createdAt, "requires_approval", payment.amount);
  const columns: Array<[(typeof PAYMENT_STATUSES)[number], Date | null, number]> = [
    ["authorized", payment.authorizedAt, payment.amount],
    ["captured", payment.capturedAt, payment.amountCaptured],
    ["canceled", payment.canceledAt, payment.amount],
    // No column of their own: the event, or (written before events existed) the payment's last change.
    ["declined", payment.status === "declined" ? payment.updatedAt : null, payment.amount],
    ["expired", payment.status === "expired" ? payment.updatedAt : null, payment.amount],
  ];
  for (const [s, column, amount] of columns) {
    const at = reportedAt.get(s) ?? column;
    if (at) status(at, s, amount);
  }

  for (const refund of refunds)
    add({
      type: "refund",
      at: refund.createdAt.toISOString(),
      refundId: refund.id,
      amount: refund.amount,
      reason: refund.reason,
    });
  const typeOf = new Map(events.map((event) => [event.id, event.type]));
  for (const event of events)
    add({ type: "event", at: event.createdAt.toISOString(), eventId: event.id, eventType: event.type });
  for (const d of deliveries)
    add({
      type: "webhook_delivery",
      at: (d.deliveredAt ?? d.createdAt).toISOString(),
      deliveryId: d.id,
      eventId: d.eventId,
      eventType: typeOf.get(d.eventId) ?? "",
      endpointId: d.endpointId,
      status: d.status,
      attempts: d.attempts,
      lastStatusCode: d.lastStatusCode,
      lastError: d.lastError,
      nextAttemptAt: d.status === "pending" ? d.nextAttemptAt.toISOString() : null,
      retry: d.status === "failed" ? `/v1/webhook-deliveries/${d.id}/retry` : null,
    });

  entries.sort((a, b) => a.at.localeCompare(b.at) || a.order - b.order || a.seq - b.seq);
  return {
    object: "payment_timeline",
    paymentId: payment.id,
    currency: payment.currency,
    data: entries.map(({ order: _order, seq: _seq, ...entry }) => entry),
  };
}
