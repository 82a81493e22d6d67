/**
 * Events and the webhook outbox. `emit` runs inside the transaction of the change it reports and writes, in one
 * statement, the event and one delivery row per subscribed endpoint: if the change commits, its webhooks are
 * certain to be sent (by the delivery worker); if it rolls back, no webhook tells of something that did not happen.
 */
import { sql } from "drizzle-orm";
import { newId, type EventType, type Mode } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";

export interface EventInput {
  merchantId: string;
  mode: Mode;
  type: EventType;
  data: Record<string, unknown>;
}

export async function emitEvent(tx: Executor, e: EventInput): Promise<string> {
  const id = newId("event");
  // Delivery ids are made in SQL (one per matching endpoint): 'msg_' + 26 upper-case hex characters, which are
  // all in the id alphabet; they are the Standard Webhooks `webhook-id`, stable across retries.
  await tx.execute(sql`
    with ev as (
      insert into events (id, merchant_id, mode, type, data)
      values (${id}, ${e.merchantId}, ${e.mode}, ${e.type}, ${JSON.stringify(e.data)}::jsonb)
      returning id
    )
    insert into webhook_deliveries (id, event_id, endpoint_id, merchant_id, status, next_attempt_at)
    select 'msg_' || upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 26)), ev.id, w.id, w.merchant_id, 'pending', now()
    from ev, webhook_endpoints w
    where w.merchant_id = ${e.merchantId} and w.mode = ${e.mode} and w.status = 'enabled'
      and (w.enabled_events @> ${JSON.stringify([e.type])}::jsonb or w.enabled_events @> '["*"]'::jsonb)`);
  return id;
}
