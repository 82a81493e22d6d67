import { and, eq, inArray, sql } from "drizzle-orm";
import { namedStatement, preparedPer } from "@mpay/service-kit";
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

/** After a verified finish: the tries are cleared, unless the PIN was locked meanwhile. */
export async function clearTries(db: Executor, payerId: string): Promise<void> {
  await clearTriesStatement.run(db, { payerId });
}

// Once per approved PIN payment: a named statement (service-kit named-statement.ts), parsed once per connection.
const clearTriesStatement = namedStatement(
  "pin_clear_tries",
  sql`update payer_pins set failed_tries = 0, updated_at = now()
      where payer_id = ${sql.placeholder("payerId")} and locked_at is null`,
);

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

/** Takes whatever login the payer has outstanding; returns its purpose. */
export async function takeAnyLogin(db: Executor, payerId: string): Promise<string | null> {
  const rows = await db
    .delete(pinLogins)
    .where(eq(pinLogins.payerId, payerId))
    .returning({ purpose: pinLogins.purpose });
  return rows[0]?.purpose ?? null;
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

/**
 * The PIN and the payer's pending reset, in one round trip (a login start needs both: a reset whose waiting period
 * ended applies first). Prepared once per connection on the server (`pin_with_pending_reset`).
 */
export async function findPinWithPendingReset(
  db: Executor,
  payerId: string,
): Promise<{ pin: PinRow; pendingReset: PinResetRow | null } | null> {
  const rows = await pinWithPendingReset(db).execute({ payerId });
  const row = rows[0];
  return row ? { pin: row.pin, pendingReset: row.reset } : null;
}

const pinWithPendingReset = preparedPer((db: Executor) =>
  db
    .select({ pin: payerPins, reset: pinResets })
    .from(payerPins)
    .leftJoin(pinResets, and(eq(pinResets.payerId, payerPins.payerId), eq(pinResets.status, "pending")))
    .where(eq(payerPins.payerId, sql.placeholder("payerId")))
    .prepare("pin_with_pending_reset"),
);

/**
 * Counts one try and stores the login it starts, in one statement: the try is claimed by the same conditional
 * UPDATE as `countTry` (`failed_tries < MAX_PIN_TRIES`, so no race grants a sixth), and the login is stored only
 * if its try was counted, replacing the payer's outstanding one. Returns the count after this try (null: locked,
 * nothing stored) and the purpose of the login it replaced, whose try was never verified. Best effort under a race:
 * a start whose snapshot predates a concurrent start's login replaces that login without naming it (its try stays
 * counted; only the `pin.failed` audit entry is missed, as with the separate delete and insert before).
 */
export async function countTryAndPutLogin(
  db: Executor,
  row: {
    payerId: string;
    loginId: string;
    sealedState: string;
    purpose: string;
    againstPrevious: boolean;
    expiresAt: Date;
  },
): Promise<{ counted: number | null; replaced: string | null }> {
  const [result] = await countTryAndPutLoginStatement.run(db, {
    ...row,
    expiresAt: row.expiresAt.toISOString(),
  });
  const counted = result?.counted ?? null;
  return {
    counted: counted === null ? null : Number(counted),
    replaced: counted === null ? null : (result?.replaced ?? null),
  };
}

const param = (name: string) => sql.placeholder(name);

// Once per PIN login start: a named statement (service-kit named-statement.ts), parsed and planned once per
// connection instead of built by drizzle and parsed by PostgreSQL on every login (issue 11).
const countTryAndPutLoginStatement = namedStatement<{ counted: number | null; replaced: string | null }>(
  "pin_count_try_and_put_login",
  sql`with counted as (
        update payer_pins set failed_tries = failed_tries + 1, updated_at = now()
        where payer_id = ${param("payerId")} and failed_tries < ${MAX_PIN_TRIES}
        returning failed_tries
      ), previous as (
        select purpose from pin_logins where payer_id = ${param("payerId")} for update
      ), stored as (
        insert into pin_logins (payer_id, login_id, sealed_state, purpose, against_previous, expires_at)
        select ${param("payerId")}::text, ${param("loginId")}::text, ${param("sealedState")}::text, ${param("purpose")}::text,
               ${param("againstPrevious")}::boolean, ${param("expiresAt")}::timestamptz
        from counted
        on conflict (payer_id) do update set login_id = excluded.login_id, sealed_state = excluded.sealed_state,
          purpose = excluded.purpose, against_previous = excluded.against_previous,
          expires_at = excluded.expires_at, created_at = now()
        returning 1
      )
      select (select failed_tries from counted) as counted,
             (select purpose from previous) as replaced,
             (select count(*) from stored) as stored`,
);

/** A login taken out for its finish (single use, as `takeLogin`) with the PIN's lock state, in one statement. */
export interface TakenLogin {
  sealedState: string;
  purpose: string;
  againstPrevious: boolean;
  expiresAt: Date;
  /** Null when the PIN row is gone. */
  failedTries: number | null;
  locked: boolean;
}

export async function takeLoginWithPin(db: Executor, payerId: string, loginId: string): Promise<TakenLogin | null> {
  const [row] = await takeLoginWithPinStatement.run(db, { payerId, loginId });
  if (!row) return null;
  return {
    sealedState: row.sealed_state,
    purpose: row.purpose,
    againstPrevious: row.against_previous,
    expiresAt: new Date(row.expires_at),
    failedTries: row.failed_tries,
    locked: row.locked !== false,
  };
}

// Once per PIN login finish: a named statement, as countTryAndPutLogin's. Rows come as the driver reads them
// (expires_at as text on node-postgres): takeLoginWithPin converts.
const takeLoginWithPinStatement = namedStatement<{
  sealed_state: string;
  purpose: string;
  against_previous: boolean;
  expires_at: Date | string;
  failed_tries: number | null;
  locked: boolean | null;
}>(
  "pin_take_login_with_pin",
  sql`with taken as (
        delete from pin_logins where payer_id = ${param("payerId")} and login_id = ${param("loginId")}
        returning sealed_state, purpose, against_previous, expires_at
      )
      select t.sealed_state, t.purpose, t.against_previous, t.expires_at, p.failed_tries,
             p.locked_at is not null as locked
      from taken t left join payer_pins p on p.payer_id = ${param("payerId")}`,
);
