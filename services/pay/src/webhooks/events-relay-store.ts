/**
 * The events relay's SQL: unpublished events claimed oldest first with FOR UPDATE SKIP LOCKED (several processes
 * may relay at once: each takes rows no other holds), marked published in the same transaction once NATS acked.
 */
import { sql } from "drizzle-orm";
import { queryRows, type Executor } from "../db/client.ts";
import type { StreamEvent } from "./events-relay-nats.ts";

/** Up to `limit` unpublished events, oldest first (ids are time-ordered), locked until the caller's commit. */
export async function claimUnpublished(tx: Executor, limit: number): Promise<StreamEvent[]> {
  const rows = await queryRows<Record<string, unknown>>(
    tx,
    sql`select id, merchant_id, mode, type, data, created_at from events
        where published_at is null
        order by id
        limit ${limit}
        for update skip locked`,
  );
  return rows.map((r) => ({
    id: r["id"] as string,
    merchantId: r["merchant_id"] as string,
    mode: r["mode"] as StreamEvent["mode"],
    type: r["type"] as string,
    data: (typeof r["data"] === "string" ? JSON.parse(r["data"]) : r["data"]) as Record<string, unknown>,
    createdAt: new Date(r["created_at"] as string | Date),
  }));
}

export async function markPublished(tx: Executor, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await queryRows(
    tx,
    sql`update events set published_at = now()
        where id in (${sql.join(
          ids.map((id) => sql`${id}`),
          sql`, `,
        )})`,
  );
}

/** Events waiting for the relay (the `mpay_events_unpublished` gauge, the soak drill's outbox). */
export async function countUnpublished(db: Executor): Promise<number> {
  const [row] = await queryRows<{ n: number | string }>(
    db,
    sql`select count(*) as n from events where published_at is null`,
  );
  return Number(row?.n ?? 0);
}
