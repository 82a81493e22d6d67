/** SQL of the staff context: staff members, their sign-in challenges and console sessions. */
import { asc } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { SignInStore } from "../credentials/sign-in-store.ts";
import { staffChallenges, staffMembers, staffSessions, type StaffRole } from "./schema.ts";

export type StaffRow = typeof staffMembers.$inferSelect;
export type StaffChallengeRow = typeof staffChallenges.$inferSelect;

const signIn = new SignInStore({
  members: staffMembers,
  challenges: staffChallenges,
  sessions: staffSessions,
  sessionMember: staffSessions.staffId,
});

/** Inserts a staff member; null when the email is taken. */
export function insertStaff(db: Executor, row: typeof staffMembers.$inferInsert): Promise<StaffRow | null> {
  return signIn.insertMember(db, row);
}

export function findStaffByEmail(db: Executor, email: string): Promise<StaffRow | null> {
  return signIn.findMemberByEmail(db, email);
}

export function findStaff(db: Executor, id: string): Promise<StaffRow | null> {
  return signIn.findMember(db, id);
}

export function listStaff(db: Executor): Promise<StaffRow[]> {
  return db.select().from(staffMembers).orderBy(asc(staffMembers.createdAt), asc(staffMembers.id));
}

/** Accepts a TOTP step only past the last one accepted, in one conditional UPDATE (the replay guard). */
export function acceptStaffTotpStep(
  tx: Executor,
  id: string,
  step: number,
  now: Date,
  sealedTotpSecret?: string,
): Promise<boolean> {
  return signIn.acceptTotpStep(tx, id, step, now, sealedTotpSecret);
}

/** Sets a staff member's TOTP seed (sealed), with a fresh replay guard. False when there is no such member. */
export function writeStaffTotpSecret(db: Executor, id: string, sealedTotpSecret: string): Promise<boolean> {
  return signIn.writeTotpSecret(db, id, sealedTotpSecret);
}

export function insertStaffChallenge(db: Executor, row: typeof staffChallenges.$inferInsert): Promise<void> {
  return signIn.insertChallenge(db, row);
}

/** The challenge, locked until the transaction ends; spent when used or after `max` wrong codes. */
export function lockStaffChallenge(tx: Executor, tokenHash: string): Promise<StaffChallengeRow | null> {
  return signIn.lockChallenge(tx, tokenHash);
}

export function endStaffChallenge(
  tx: Executor,
  tokenHash: string,
  now: Date,
  outcome: "used" | { failedOf: number },
): Promise<void> {
  return outcome === "used"
    ? signIn.spendChallenge(tx, tokenHash, now)
    : signIn.countChallengeFailure(tx, tokenHash, now, outcome.failedOf);
}

export function insertStaffSession(db: Executor, row: typeof staffSessions.$inferInsert): Promise<void> {
  return signIn.insertSession(db, row);
}

export interface LiveStaffSession {
  staffId: string;
  role: StaffRole;
  email: string;
  name: string;
}

/** The session's staff member when the session is live and the member not disabled; moves its idle end forward. */
export async function touchStaffSession(
  db: Executor,
  tokenHash: string,
  now: Date,
  idleSince: Date,
): Promise<LiveStaffSession | null> {
  const live = await signIn.touchSession(db, tokenHash, now, idleSince);
  if (!live) return null;
  const { id, role, email, name } = live.member;
  return { staffId: id, role, email, name };
}

export function signOutStaffSession(db: Executor, tokenHash: string, now: Date): Promise<void> {
  return signIn.signOutSession(db, tokenHash, now);
}

/** Forgets challenges and sessions past their end (maintenance); returns how many rows. */
export function purgeExpiredStaff(db: Executor, now: Date): Promise<number> {
  return signIn.purgeExpired(db, now);
}
