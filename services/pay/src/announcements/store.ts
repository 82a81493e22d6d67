/** SQL for the announcements outbox. */
import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";
import { namedStatement } from "@mpay/service-kit";
import type { Executor } from "../db/client.ts";
import { announcements } from "./schema.ts";

export type AnnouncementRow = typeof announcements.$inferSelect;

const p = (name: string) => sql.placeholder(name);

/**
 * A named statement (issue 11: a receipt is written with every approved payment). `leaseSeconds` 0 leaves the row
 * due at once with no attempt counted; more claims it for its first attempt (counted, leased), so the sender that
 * wrote it attempts it after commit without a claim of its own.
 */
const insertStatement = namedStatement(
  "announcements_insert",
  sql`insert into announcements (id, payer_id, messenger_subject, kind, text, actions, params, status, attempts,
    next_attempt_at, created_at)
  values (${p("id")}, ${p("payerId")}, ${p("messengerSubject")}, ${p("kind")}, ${p("text")}, ${p("actions")}::jsonb,
    ${p("params")}::jsonb, 'pending', ${p("attempts")}::int4, now() + make_interval(secs => ${p("leaseSeconds")}::float8),
    ${p("createdAt")}::timestamptz)`,
);

export async function insertAnnouncement(
  tx: Executor,
  row: Pick<
    AnnouncementRow,
    "id" | "payerId" | "messengerSubject" | "kind" | "text" | "actions" | "params" | "createdAt"
  >,
  claim: { leaseSeconds: number } | null = null,
): Promise<void> {
  await insertStatement.run(tx, {
    id: row.id,
    payerId: row.payerId,
    messengerSubject: row.messengerSubject,
    kind: row.kind,
    text: row.text,
    actions: JSON.stringify(row.actions),
    params: row.params === null ? null : JSON.stringify(row.params),
    attempts: claim ? 1 : 0,
    leaseSeconds: claim ? claim.leaseSeconds : 0,
    createdAt: row.createdAt.toISOString(),
  });
}

export async function findAnnouncement(db: Executor, id: string): Promise<AnnouncementRow | null> {
  const [row] = await db.select().from(announcements).where(eq(announcements.id, id)).limit(1);
  return row ?? null;
}

const claim = { attempts: sql`${announcements.attempts} + 1` };
const leased = (leaseSeconds: number) => sql`now() + make_interval(secs => ${leaseSeconds})`;

/**
 * Claims one announcement for an attempt if it is pending and due: counts the attempt and moves it past a lease,
 * so no other sender takes it meanwhile. Null when it is delivered, failed, or being sent by someone else.
 */
export async function claimAnnouncement(
  db: Executor,
  id: string,
  leaseSeconds: number,
): Promise<AnnouncementRow | null> {
  const [row] = await db
    .update(announcements)
    .set({ ...claim, nextAttemptAt: leased(leaseSeconds) })
    .where(
      and(eq(announcements.id, id), eq(announcements.status, "pending"), lte(announcements.nextAttemptAt, sql`now()`)),
    )
    .returning();
  return row ?? null;
}

/** Claims up to `limit` due announcements; SKIP LOCKED lets every pay-server process share the outbox. */
export async function claimDueAnnouncements(
  db: Executor,
  limit: number,
  leaseSeconds: number,
): Promise<AnnouncementRow[]> {
  const due = db
    .select({ id: announcements.id })
    .from(announcements)
    .where(and(eq(announcements.status, "pending"), lte(announcements.nextAttemptAt, sql`now()`)))
    .orderBy(asc(announcements.nextAttemptAt))
    .limit(limit)
    .for("update", { skipLocked: true });
  return db
    .update(announcements)
    .set({ ...claim, nextAttemptAt: leased(leaseSeconds) })
    .where(inArray(announcements.id, due))
    .returning();
}

const deliveredStatement = namedStatement(
  "announcements_delivered",
  sql`update announcements set status = 'delivered', delivered_at = now(), last_error = null where id = ${p("id")}`,
);

export async function markDelivered(db: Executor, id: string): Promise<void> {
  await deliveredStatement.run(db, { id });
}

export async function postpone(db: Executor, id: string, delayMs: number, error: string): Promise<void> {
  await db
    .update(announcements)
    .set({ nextAttemptAt: sql`now() + make_interval(secs => ${delayMs / 1000})`, lastError: error })
    .where(and(eq(announcements.id, id), eq(announcements.status, "pending")));
}

export async function markFailed(db: Executor, id: string, error: string): Promise<void> {
  await db
    .update(announcements)
    .set({ status: "failed", lastError: error })
    .where(and(eq(announcements.id, id), eq(announcements.status, "pending")));
}
