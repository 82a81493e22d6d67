import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { payerPins, pinLogins, pinResets } from "./schema.ts";

export type PinRow = typeof payerPins.$inferSelect;

/** A PIN locks after this many counted tries without a verified finish. */
export const MAX_PIN_TRIES = 5;

export async function findPin(db: Executor, payerId: string): Promise<PinRow | null> {
  const rows = await db.select().from(payerPins).where(eq(payerPins.payerId, payerId));
  return rows[0] ?? null;
}

export async function insertPin(db: Executor, payerId: string, registrationRecord: string): Promise<boolean> {
  const rows = await db
    .insert(payerPins)
    .values({ payerId, registrationRecord })
    .onConflictDoNothing()
    .returning({ payerId: payerPins.payerId });
  return rows.length === 1;
}

/**
 * Replaces the record (tries cleared, lock lifted). With `keepPreviousUntil` (a change), the replaced record stays
 * usable for a recovery's PIN proof until then; otherwise (a reset) no previous record is kept.
 */
export async function replacePin(
  db: Executor,
  payerId: string,
  registrationRecord: string,
  keepPreviousUntil: Date | null = null,
): Promise<void> {
  await db
    .update(payerPins)
    .set({
      registrationRecord,
      failedTries: 0,
      lockedAt: null,
      previousRecord: keepPreviousUntil ? sql`${payerPins.registrationRecord}` : null,
      previousUntil: keepPreviousUntil,
      updatedAt: sql`now()`,
    })
    .where(eq(payerPins.payerId, payerId));
}

/** Puts the previous record back (a recovery proved it); true if there was one to restore. */
export async function restorePreviousPin(db: Executor, payerId: string): Promise<boolean> {
  const rows = await db
    .update(payerPins)
    .set({
      registrationRecord: sql`${payerPins.previousRecord}`,
      previousRecord: null,
      previousUntil: null,
      failedTries: 0,
      lockedAt: null,
      updatedAt: sql`now()`,
    })
    .where(and(eq(payerPins.payerId, payerId), sql`${payerPins.previousRecord} is not null`))
    .returning({ payerId: payerPins.payerId });
  return rows.length === 1;
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
  await db
    .update(payerPins)
    .set({ failedTries: 0, updatedAt: sql`now()` })
    .where(and(eq(payerPins.payerId, payerId), sql`${payerPins.lockedAt} is null`));
}

/** Marks the PIN locked, once: true only for the call that locked it (so the lock is audited once). */
export async function markLocked(db: Executor, payerId: string): Promise<boolean> {
  const rows = await db
    .update(payerPins)
    .set({ lockedAt: sql`now()` })
    .where(
      and(
        eq(payerPins.payerId, payerId),
        sql`${payerPins.lockedAt} is null`,
        sql`${payerPins.failedTries} >= ${MAX_PIN_TRIES}`,
      ),
    )
    .returning({ payerId: payerPins.payerId });
  return rows.length === 1;
}

/**
 * Stores the payer's one outstanding login, replacing an older one (whose try stays counted). Returns the purpose
 * of the login it replaced, if any: that try was never verified (a wrong PIN, or abandoned).
 */
export async function putLogin(db: Executor, row: typeof pinLogins.$inferInsert): Promise<string | null> {
  const [previous] = await db
    .delete(pinLogins)
    .where(eq(pinLogins.payerId, row.payerId))
    .returning({ purpose: pinLogins.purpose });
  await db
    .insert(pinLogins)
    .values(row)
    .onConflictDoUpdate({
      target: pinLogins.payerId,
      set: {
        loginId: row.loginId,
        sealedState: row.sealedState,
        purpose: row.purpose,
        againstPrevious: row.againstPrevious ?? false,
        expiresAt: row.expiresAt,
        createdAt: sql`now()`,
      },
    });
  return previous?.purpose ?? null;
}

/** Takes whatever login the payer has outstanding; returns its purpose. */
export async function takeAnyLogin(db: Executor, payerId: string): Promise<string | null> {
  const rows = await db
    .delete(pinLogins)
    .where(eq(pinLogins.payerId, payerId))
    .returning({ purpose: pinLogins.purpose });
  return rows[0]?.purpose ?? null;
}

/** Takes the login out (single use): a second finish with the same id finds nothing, in any process. */
export async function takeLogin(
  db: Executor,
  payerId: string,
  loginId: string,
): Promise<typeof pinLogins.$inferSelect | null> {
  const rows = await db
    .delete(pinLogins)
    .where(and(eq(pinLogins.payerId, payerId), eq(pinLogins.loginId, loginId)))
    .returning();
  return rows[0] ?? null;
}

export type PinResetRow = typeof pinResets.$inferSelect;

export async function findReset(db: Executor, payerId: string, id: string): Promise<PinResetRow | null> {
  const rows = await db
    .select()
    .from(pinResets)
    .where(and(eq(pinResets.id, id), eq(pinResets.payerId, payerId)));
  return rows[0] ?? null;
}

/** Moves a reset whose cardholder check passed to `pending` until `activatesAt`; null if it was not waiting for it. */
export async function confirmReset(
  db: Executor,
  payerId: string,
  id: string,
  activatesAt: Date,
): Promise<PinResetRow | null> {
  const [row] = await db
    .update(pinResets)
    .set({ status: "pending", activatesAt })
    .where(and(eq(pinResets.id, id), eq(pinResets.payerId, payerId), eq(pinResets.status, "verification_required")))
    .returning();
  return row ?? null;
}

export async function pendingReset(db: Executor, payerId: string): Promise<PinResetRow | null> {
  const rows = await db
    .select()
    .from(pinResets)
    .where(and(eq(pinResets.payerId, payerId), eq(pinResets.status, "pending")));
  return rows[0] ?? null;
}

export async function insertReset(db: Executor, row: typeof pinResets.$inferInsert): Promise<PinResetRow> {
  const [inserted] = await db.insert(pinResets).values(row).returning();
  return inserted!;
}

/** Ends a reset still in one of `from` (applied or canceled); the row only for the one caller that ended it. */
export async function endReset(
  db: Executor,
  id: string,
  status: "applied" | "canceled",
  from: Array<PinResetRow["status"]>,
  now: Date,
): Promise<PinResetRow | null> {
  const [row] = await db
    .update(pinResets)
    .set({ status, endedAt: now })
    .where(and(eq(pinResets.id, id), inArray(pinResets.status, from)))
    .returning();
  return row ?? null;
}
