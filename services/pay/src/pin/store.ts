import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { payerPins, pinLogins, pinResets } from "../db/schema.ts";

export type PinRow = typeof payerPins.$inferSelect;

/** A PIN locks after this many counted tries without a verified finish. */
export const MAX_PIN_TRIES = 5;

export async function findPin(db: Executor, payerId: string): Promise<PinRow | null> {
  const rows = await db.select().from(payerPins).where(eq(payerPins.payerId, payerId));
  return rows[0] ?? null;
}

export async function insertPin(db: Executor, payerId: string, registrationRecord: string): Promise<boolean> {
  const rows = await db.insert(payerPins).values({ payerId, registrationRecord }).onConflictDoNothing().returning({ payerId: payerPins.payerId });
  return rows.length === 1;
}

export async function replacePin(db: Executor, payerId: string, registrationRecord: string): Promise<void> {
  await db.update(payerPins).set({ registrationRecord, failedTries: 0, lockedAt: null, updatedAt: sql`now()` }).where(eq(payerPins.payerId, payerId));
}

/**
 * Counts one try, atomically and only while fewer than MAX_PIN_TRIES are counted: of any number of concurrent
 * starts, at most the remaining tries get through. Returns the count after this try, or null when locked.
 */
export async function countTry(db: Executor, payerId: string): Promise<number | null> {
  const rows = await db
    .update(payerPins)
    .set({ failedTries: sql`${payerPins.failedTries} + 1`, updatedAt: sql`now()` })
    .where(and(eq(payerPins.payerId, payerId), sql`${payerPins.failedTries} < ${MAX_PIN_TRIES}`))
    .returning({ failedTries: payerPins.failedTries });
  return rows[0]?.failedTries ?? null;
}

export async function clearTries(db: Executor, payerId: string): Promise<void> {
  await db.update(payerPins).set({ failedTries: 0, updatedAt: sql`now()` }).where(and(eq(payerPins.payerId, payerId), sql`${payerPins.lockedAt} is null`));
}

/** Marks the PIN locked, once: true only for the call that locked it (so the lock is audited once). */
export async function markLocked(db: Executor, payerId: string): Promise<boolean> {
  const rows = await db
    .update(payerPins)
    .set({ lockedAt: sql`now()` })
    .where(and(eq(payerPins.payerId, payerId), sql`${payerPins.lockedAt} is null`, sql`${payerPins.failedTries} >= ${MAX_PIN_TRIES}`))
    .returning({ payerId: payerPins.payerId });
  return rows.length === 1;
}

/**
 * Stores the payer's one outstanding login, replacing an older one (whose try stays counted). Returns the purpose
 * of the login it replaced, if any: that try was never verified (a wrong PIN, or abandoned).
 */
export async function putLogin(db: Executor, row: typeof pinLogins.$inferInsert): Promise<string | null> {
  const [previous] = await db.delete(pinLogins).where(eq(pinLogins.payerId, row.payerId)).returning({ purpose: pinLogins.purpose });
  await db
    .insert(pinLogins)
    .values(row)
    .onConflictDoUpdate({ target: pinLogins.payerId, set: { loginId: row.loginId, sealedState: row.sealedState, purpose: row.purpose, expiresAt: row.expiresAt, createdAt: sql`now()` } });
  return previous?.purpose ?? null;
}

/** Takes whatever login the payer has outstanding; returns its purpose. */
export async function takeAnyLogin(db: Executor, payerId: string): Promise<string | null> {
  const rows = await db.delete(pinLogins).where(eq(pinLogins.payerId, payerId)).returning({ purpose: pinLogins.purpose });
  return rows[0]?.purpose ?? null;
}

/** Takes the login out (single use): a second finish with the same id finds nothing, in any process. */
export async function takeLogin(db: Executor, payerId: string, loginId: string): Promise<typeof pinLogins.$inferSelect | null> {
  const rows = await db.delete(pinLogins).where(and(eq(pinLogins.payerId, payerId), eq(pinLogins.loginId, loginId))).returning();
  return rows[0] ?? null;
}

export type PinResetRow = typeof pinResets.$inferSelect;

export async function pendingReset(db: Executor, payerId: string): Promise<PinResetRow | null> {
  const rows = await db.select().from(pinResets).where(and(eq(pinResets.payerId, payerId), eq(pinResets.status, "pending")));
  return rows[0] ?? null;
}

export async function insertReset(db: Executor, row: typeof pinResets.$inferInsert): Promise<PinResetRow> {
  const [inserted] = await db.insert(pinResets).values(row).returning();
  return inserted!;
}

/** Ends a pending reset (applied or canceled); true only for the one caller that ended it. */
export async function endReset(db: Executor, id: string, status: "applied" | "canceled"): Promise<boolean> {
  const rows = await db
    .update(pinResets)
    .set({ status, endedAt: sql`now()` })
    .where(and(eq(pinResets.id, id), eq(pinResets.status, "pending")))
    .returning({ id: pinResets.id });
  return rows.length === 1;
}
