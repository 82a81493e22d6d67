/** SQL of the merchant-users context: users, sign-in challenges, sessions, passkeys. */
import { and, asc, eq, lt, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { SignInStore } from "../credentials/sign-in-store.ts";
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

const signIn = new SignInStore({
  members: merchantUsers,
  challenges: merchantUserChallenges,
  sessions: merchantUserSessions,
  sessionMember: merchantUserSessions.userId,
});

/** Inserts a user; null when the email is taken. */
export function insertUser(db: Executor, row: typeof merchantUsers.$inferInsert): Promise<MerchantUserRow | null> {
  return signIn.insertMember(db, row);
}

export function findUserByEmail(db: Executor, email: string): Promise<MerchantUserRow | null> {
  return signIn.findMemberByEmail(db, email);
}

export function findUser(db: Executor, id: string): Promise<MerchantUserRow | null> {
  return signIn.findMember(db, id);
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
export function acceptTotpStep(
  tx: Executor,
  id: string,
  step: number,
  now: Date,
  sealedTotpSecret?: string,
): Promise<boolean> {
  return signIn.acceptTotpStep(tx, id, step, now, sealedTotpSecret);
}

/** Sets a user's TOTP seed (sealed); a fresh seed starts its own replay guard. False when there is no such user. */
export function writeTotpSecret(db: Executor, id: string, sealedTotpSecret: string): Promise<boolean> {
  return signIn.writeTotpSecret(db, id, sealedTotpSecret);
}

export async function markSignedIn(tx: Executor, id: string, now: Date): Promise<void> {
  await tx.update(merchantUsers).set({ lastSignInAt: now }).where(eq(merchantUsers.id, id));
}

export function insertChallenge(db: Executor, row: typeof merchantUserChallenges.$inferInsert): Promise<void> {
  return signIn.insertChallenge(db, row);
}

/** The challenge, locked until the transaction ends (a second try with it waits, then sees it spent). */
export function lockChallenge(tx: Executor, tokenHash: string): Promise<ChallengeRow | null> {
  return signIn.lockChallenge(tx, tokenHash);
}

export function spendChallenge(tx: Executor, tokenHash: string, now: Date): Promise<void> {
  return signIn.spendChallenge(tx, tokenHash, now);
}

/** Counts a wrong code on the challenge; at `max` it is spent. */
export function countChallengeFailure(tx: Executor, tokenHash: string, now: Date, max: number): Promise<void> {
  return signIn.countChallengeFailure(tx, tokenHash, now, max);
}

export function insertSession(db: Executor, row: typeof merchantUserSessions.$inferInsert): Promise<void> {
  return signIn.insertSession(db, row);
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
  const live = await signIn.touchSession(db, tokenHash, now, idleSince);
  if (!live) return null;
  const { id, merchantId, role } = live.member;
  return { userId: id, merchantId, role, expiresAt: live.expiresAt };
}

export function signOutSession(db: Executor, tokenHash: string, now: Date): Promise<void> {
  return signIn.signOutSession(db, tokenHash, now);
}

/** Ends every session of a user (disabled, or a role change that must take effect everywhere at once). */
export function signOutUser(db: Executor, userId: string, now: Date): Promise<void> {
  return signIn.signOutMember(db, userId, now);
}

/** Forgets challenges, sessions and passkey challenges past their end (a maintenance task); returns how many rows. */
export async function purgeExpired(db: Executor, now: Date): Promise<number> {
  const passkeyChallenges = await db
    .delete(merchantUserPasskeyChallenges)
    .where(lt(merchantUserPasskeyChallenges.expiresAt, now))
    .returning({ c: merchantUserPasskeyChallenges.challenge });
  return (await signIn.purgeExpired(db, now)) + passkeyChallenges.length;
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
