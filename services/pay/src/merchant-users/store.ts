/** SQL of the merchant-users context: users, sign-in challenges, sessions, passkeys. */
import { and, asc, eq, isNull, lt, or, sql } from "drizzle-orm";
import { queryRows, type Executor } from "../db/client.ts";
import type { MerchantRole } from "../http/caller.ts";
import {
  merchantUserChallenges,
  merchantUserPasskeyChallenges,
  merchantUserPasskeys,
  merchantUserSessions,
  merchantUsers,
} from "./schema.ts";

export type MerchantUserRow = typeof merchantUsers.$inferSelect;
export type ChallengeRow = typeof merchantUserChallenges.$inferSelect;
export type UserPasskeyRow = typeof merchantUserPasskeys.$inferSelect;

/** Inserts a user; null when the email is taken. */
export async function insertUser(
  db: Executor,
  row: typeof merchantUsers.$inferInsert,
): Promise<MerchantUserRow | null> {
  const rows = await db.insert(merchantUsers).values(row).onConflictDoNothing().returning();
  return rows[0] ?? null;
}

export async function findUserByEmail(db: Executor, email: string): Promise<MerchantUserRow | null> {
  const rows = await db.select().from(merchantUsers).where(eq(merchantUsers.email, email));
  return rows[0] ?? null;
}

export async function findUser(db: Executor, id: string): Promise<MerchantUserRow | null> {
  const rows = await db.select().from(merchantUsers).where(eq(merchantUsers.id, id));
  return rows[0] ?? null;
}

export function listUsers(db: Executor, merchantId: string): Promise<MerchantUserRow[]> {
  return db
    .select()
    .from(merchantUsers)
    .where(eq(merchantUsers.merchantId, merchantId))
    .orderBy(asc(merchantUsers.createdAt), asc(merchantUsers.id));
}

/**
 * Locks the merchant's users until the transaction ends and answers them: two owners demoting each other at once
 * are serialised, so the "last owner" rule holds.
 */
export function lockUsersOf(tx: Executor, merchantId: string): Promise<MerchantUserRow[]> {
  return tx
    .select()
    .from(merchantUsers)
    .where(eq(merchantUsers.merchantId, merchantId))
    .orderBy(asc(merchantUsers.id))
    .for("update");
}

export async function updateUser(
  tx: Executor,
  id: string,
  set: { role?: MerchantRole; disabled?: boolean },
): Promise<MerchantUserRow> {
  const rows = await tx.update(merchantUsers).set(set).where(eq(merchantUsers.id, id)).returning();
  const row = rows[0];
  if (!row) throw new Error(`merchant user ${id} vanished inside its transaction`);
  return row;
}

/**
 * Accepts a TOTP time step only past the last one accepted, in one conditional UPDATE (the replay guard): of two
 * concurrent sign-ins with the same code only one gets through. `sealedTotpSecret` is set on a first setup.
 */
export async function acceptTotpStep(
  tx: Executor,
  id: string,
  step: number,
  now: Date,
  sealedTotpSecret?: string,
): Promise<boolean> {
  const rows = await tx
    .update(merchantUsers)
    .set({ totpLastStep: step, lastSignInAt: now, ...(sealedTotpSecret ? { sealedTotpSecret } : {}) })
    .where(and(eq(merchantUsers.id, id), or(isNull(merchantUsers.totpLastStep), lt(merchantUsers.totpLastStep, step))))
    .returning({ id: merchantUsers.id });
  return rows.length === 1;
}

/** Sets a user's TOTP seed (sealed); a fresh seed starts its own replay guard. False when there is no such user. */
export async function writeTotpSecret(db: Executor, id: string, sealedTotpSecret: string): Promise<boolean> {
  const rows = await db
    .update(merchantUsers)
    .set({ sealedTotpSecret, totpLastStep: null })
    .where(eq(merchantUsers.id, id))
    .returning({ id: merchantUsers.id });
  return rows.length === 1;
}

export async function markSignedIn(tx: Executor, id: string, now: Date): Promise<void> {
  await tx.update(merchantUsers).set({ lastSignInAt: now }).where(eq(merchantUsers.id, id));
}

export async function insertChallenge(db: Executor, row: typeof merchantUserChallenges.$inferInsert): Promise<void> {
  await db.insert(merchantUserChallenges).values(row);
}

/** The challenge, locked until the transaction ends (a second try with it waits, then sees it spent). */
export async function lockChallenge(tx: Executor, tokenHash: string): Promise<ChallengeRow | null> {
  const rows = await tx
    .select()
    .from(merchantUserChallenges)
    .where(eq(merchantUserChallenges.tokenHash, tokenHash))
    .for("update");
  return rows[0] ?? null;
}

export async function spendChallenge(tx: Executor, tokenHash: string, now: Date): Promise<void> {
  await tx.update(merchantUserChallenges).set({ usedAt: now }).where(eq(merchantUserChallenges.tokenHash, tokenHash));
}

/** Counts a wrong code on the challenge; at `max` it is spent. */
export async function countChallengeFailure(tx: Executor, tokenHash: string, now: Date, max: number): Promise<void> {
  await tx
    .update(merchantUserChallenges)
    .set({
      failures: sql`${merchantUserChallenges.failures} + 1`,
      usedAt: sql`case when ${merchantUserChallenges.failures} + 1 >= ${max} then ${now.toISOString()}::timestamptz else null end`,
    })
    .where(eq(merchantUserChallenges.tokenHash, tokenHash));
}

export async function insertSession(db: Executor, row: typeof merchantUserSessions.$inferInsert): Promise<void> {
  await db.insert(merchantUserSessions).values(row);
}

export interface LiveSession {
  userId: string;
  merchantId: string;
  role: MerchantRole;
  expiresAt: Date;
}

/**
 * The session's user when the session is live (not signed out, before its absolute end, used within the idle
 * window) and the user not disabled; moves its idle end forward in the same statement.
 */
export async function touchSession(
  db: Executor,
  tokenHash: string,
  now: Date,
  idleSince: Date,
): Promise<LiveSession | null> {
  const rows = await queryRows<{ user_id: string; merchant_id: string; role: MerchantRole; expires_at: Date | string }>(
    db,
    sql`update merchant_user_sessions s set last_seen_at = ${now}
        from merchant_users u
        where s.token_hash = ${tokenHash} and u.id = s.user_id and s.signed_out_at is null
          and s.expires_at > ${now} and s.last_seen_at > ${idleSince} and not u.disabled
        returning u.id as user_id, u.merchant_id, u.role, s.expires_at`,
  );
  const row = rows[0];
  if (!row) return null;
  return { userId: row.user_id, merchantId: row.merchant_id, role: row.role, expiresAt: new Date(row.expires_at) };
}

export async function signOutSession(db: Executor, tokenHash: string, now: Date): Promise<void> {
  await db
    .update(merchantUserSessions)
    .set({ signedOutAt: now })
    .where(and(eq(merchantUserSessions.tokenHash, tokenHash), isNull(merchantUserSessions.signedOutAt)));
}

/** Ends every session of a user (disabled, or a role change that must take effect everywhere at once). */
export async function signOutUser(db: Executor, userId: string, now: Date): Promise<void> {
  await db
    .update(merchantUserSessions)
    .set({ signedOutAt: now })
    .where(and(eq(merchantUserSessions.userId, userId), isNull(merchantUserSessions.signedOutAt)));
}

/** Forgets challenges and sessions past their end (a maintenance task); returns how many rows. */
export async function purgeExpired(db: Executor, now: Date): Promise<number> {
  const challenges = await db
    .delete(merchantUserChallenges)
    .where(lt(merchantUserChallenges.expiresAt, now))
    .returning({ h: merchantUserChallenges.tokenHash });
  const sessions = await db
    .delete(merchantUserSessions)
    .where(lt(merchantUserSessions.expiresAt, now))
    .returning({ h: merchantUserSessions.tokenHash });
  const passkeyChallenges = await db
    .delete(merchantUserPasskeyChallenges)
    .where(lt(merchantUserPasskeyChallenges.expiresAt, now))
    .returning({ c: merchantUserPasskeyChallenges.challenge });
  return challenges.length + sessions.length + passkeyChallenges.length;
}

// passkeys

export function passkeysOfUser(db: Executor, userId: string): Promise<UserPasskeyRow[]> {
  return db.select().from(merchantUserPasskeys).where(eq(merchantUserPasskeys.userId, userId));
}

export async function findUserPasskey(db: Executor, id: string): Promise<UserPasskeyRow | null> {
  const rows = await db.select().from(merchantUserPasskeys).where(eq(merchantUserPasskeys.id, id));
  return rows[0] ?? null;
}

export async function insertUserPasskey(
  db: Executor,
  row: typeof merchantUserPasskeys.$inferInsert,
): Promise<UserPasskeyRow | null> {
  const rows = await db.insert(merchantUserPasskeys).values(row).onConflictDoNothing().returning();
  return rows[0] ?? null;
}

/** Moves the sign counter forward only (0 stays allowed while the stored one is 0, WebAuthn §6.1.1). */
export async function advanceUserPasskeyCounter(db: Executor, id: string, signCount: number): Promise<boolean> {
  const rows = await db
    .update(merchantUserPasskeys)
    .set({ signCount })
    .where(
      and(
        eq(merchantUserPasskeys.id, id),
        signCount === 0 ? eq(merchantUserPasskeys.signCount, 0) : lt(merchantUserPasskeys.signCount, signCount),
      ),
    )
    .returning({ id: merchantUserPasskeys.id });
  return rows.length === 1;
}

export async function putPasskeyChallenge(
  db: Executor,
  row: typeof merchantUserPasskeyChallenges.$inferInsert,
): Promise<void> {
  await db.insert(merchantUserPasskeyChallenges).values(row);
}

/** Takes a passkey challenge once: deleted as it is read, so it cannot be used twice. */
export async function takePasskeyChallenge(
  db: Executor,
  challenge: string,
  purpose: "register" | "sign_in",
  now: Date,
): Promise<{ userId: string | null } | null> {
  const rows = await db
    .delete(merchantUserPasskeyChallenges)
    .where(
      and(
        eq(merchantUserPasskeyChallenges.challenge, challenge),
        eq(merchantUserPasskeyChallenges.purpose, purpose),
        sql`${merchantUserPasskeyChallenges.expiresAt} > ${now}`,
      ),
    )
    .returning({ userId: merchantUserPasskeyChallenges.userId });
  return rows[0] ?? null;
}
