/** SQL for the announcements outbox. */
import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { announcements } from "./schema.ts";

export type AnnouncementRow = typeof announcements.$inferSelect;

export async function insertAnnouncement(tx: Executor, row: typeof announcements.$inferInsert): Promise<void> {
  await tx.insert(announcements).values(row);
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

export async function markDelivered(db: Executor, id: string): Promise<void> {
  await db
    .update(announcements)
    .set({ status: "delivered", deliveredAt: sql`now()`, lastError: null })
    .where(eq(announcements.id, id));
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
