/**
 * Events and the webhook outbox. `emit` runs inside the transaction of the change it reports and writes, in one
 * statement, the event and one delivery row per subscribed endpoint: if the change commits, its webhooks are
 * certain to be sent (by the delivery worker); if it rolls back, no webhook tells of something that did not happen.
 */
import { sql, type SQL } from "drizzle-orm";
import { namedStatement } from "@mpay/service-kit";
import { newId, type EventType, type Mode } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";

export interface EventInput {
  merchantId: string;
  mode: Mode;
  type: EventType;
  data: Record<string, unknown>;
}

const p = (name: string) => sql.placeholder(name);

/**
 * The event and its deliveries as CTEs (`event_row`, `event_deliveries`), for a caller that writes them in its own
 * statement with the change they report. Placeholders: eventId, eventMerchant, eventMode, eventType, eventData,
 * eventTypes (eventValues makes them).
 *
 * Delivery ids are made in SQL (one per matching endpoint): 'msg_' + 26 upper-case hex characters, which are all in
 * the id alphabet; they are the Standard Webhooks `webhook-id`, stable across retries.
 */
export const eventCtes = eventCtesFrom(
  sql`values (${p("eventId")}, ${p("eventMerchant")}, ${p("eventMode")}, ${p("eventType")}, ${p("eventData")}::jsonb)`,
);

/**
 * eventCtes for a statement that writes the event only if `condition` holds (a guarded change in an earlier CTE of
 * the same statement: no change, no event and no deliveries). Same placeholders.
 */
export function eventCtesIf(condition: SQL): SQL {
  return eventCtesFrom(
    sql`select ${p("eventId")}, ${p("eventMerchant")}, ${p("eventMode")}, ${p("eventType")}, ${p("eventData")}::jsonb
      where ${condition}`,
  );
}

function eventCtesFrom(rows: SQL): SQL {
  return sql`event_row as (
      insert into events (id, merchant_id, mode, type, data)
      ${rows}
      returning id
    ), event_deliveries as (
      insert into webhook_deliveries (id, event_id, endpoint_id, merchant_id, status, next_attempt_at)
      select 'msg_' || upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 26)), ev.id, w.id, w.merchant_id, 'pending', now()
      from event_row ev, webhook_endpoints w
      where w.merchant_id = ${p("eventMerchant")} and w.mode = ${p("eventMode")} and w.status = 'enabled'
        and (w.enabled_events @> ${p("eventTypes")}::jsonb or w.enabled_events @> '["*"]'::jsonb)
    )`;
}

/** A new event's id and the placeholder values of eventCtes. */
export function eventValues(e: EventInput): { id: string; values: Record<string, unknown> } {
  const id = newId("event");
  return {
    id,
    values: {
      eventId: id,
      eventMerchant: e.merchantId,
      eventMode: e.mode,
      eventType: e.type,
      eventData: JSON.stringify(e.data),
      eventTypes: JSON.stringify([e.type]),
    },
  };
}

const emitStatement = namedStatement("webhooks_emit_event", sql`with ${eventCtes} select 1`);

export async function emitEvent(tx: Executor, e: EventInput): Promise<string> {
  const { id, values } = eventValues(e);
  await emitStatement.run(tx, values);
  return id;
}
