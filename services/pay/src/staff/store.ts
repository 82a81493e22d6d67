/** SQL of the staff context: staff members, their sign-in challenges and console sessions. */
import { and, asc, eq, isNull, lt, or, sql } from "drizzle-orm";
import { queryRows, type Executor } from "../db/client.ts";
import { staffChallenges, staffMembers, staffSessions, type StaffRole } from "./schema.ts";

export type StaffRow = typeof staffMembers.$inferSelect;
export type StaffChallengeRow = typeof staffChallenges.$inferSelect;

/** Inserts a staff member; null when the email is taken. */
export async function insertStaff(db: Executor, row: typeof staffMembers.$inferInsert): Promise<StaffRow | null> {
  const rows = await db.insert(staffMembers).values(row).onConflictDoNothing().returning();
  return rows[0] ?? null;
}

export async function findStaffByEmail(db: Executor, email: string): Promise<StaffRow | null> {
  const rows = await db.select().from(staffMembers).where(eq(staffMembers.email, email));
  return rows[0] ?? null;
}

export async function findStaff(db: Executor, id: string): Promise<StaffRow | null> {
  const rows = await db.select().from(staffMembers).where(eq(staffMembers.id, id));
  return rows[0] ?? null;
}

export function listStaff(db: Executor): Promise<StaffRow[]> {
  return db.select().from(staffMembers).orderBy(asc(staffMembers.createdAt), asc(staffMembers.id));
}

/** Accepts a TOTP step only past the last one accepted, in one conditional UPDATE (the replay guard). */
export async function acceptStaffTotpStep(
  tx: Executor,
  id: string,
  step: number,
  now: Date,
  sealedTotpSecret?: string,
): Promise<boolean> {
  const rows = await tx
    .update(staffMembers)
    .set({ totpLastStep: step, lastSignInAt: now, ...(sealedTotpSecret ? { sealedTotpSecret } : {}) })
    .where(and(eq(staffMembers.id, id), or(isNull(staffMembers.totpLastStep), lt(staffMembers.totpLastStep, step))))
    .returning({ id: staffMembers.id });
  return rows.length === 1;
}

export async function insertStaffChallenge(db: Executor, row: typeof staffChallenges.$inferInsert): Promise<void> {
  await db.insert(staffChallenges).values(row);
}

/** The challenge, locked until the transaction ends; spent when used or after `max` wrong codes. */
export async function lockStaffChallenge(tx: Executor, tokenHash: string): Promise<StaffChallengeRow | null> {
  const rows = await tx.select().from(staffChallenges).where(eq(staffChallenges.tokenHash, tokenHash)).for("update");
  return rows[0] ?? null;
}

export async function endStaffChallenge(
  tx: Executor,
  tokenHash: string,
  now: Date,
  outcome: "used" | { failedOf: number },
): Promise<void> {
  const set =
    outcome === "used"
      ? { usedAt: now }
      : {
          failures: sql`${staffChallenges.failures} + 1`,
          usedAt: sql`case when ${staffChallenges.failures} + 1 >= ${outcome.failedOf} then ${now.toISOString()}::timestamptz else null end`,
        };
  await tx.update(staffChallenges).set(set).where(eq(staffChallenges.tokenHash, tokenHash));
}

export async function insertStaffSession(db: Executor, row: typeof staffSessions.$inferInsert): Promise<void> {
  await db.insert(staffSessions).values(row);
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
  const rows = await queryRows<{ staff_id: string; role: StaffRole; email: string; name: string }>(
    db,
    sql`update staff_sessions s set last_seen_at = ${now}
        from staff_members m
        where s.token_hash = ${tokenHash} and m.id = s.staff_id and s.signed_out_at is null
          and s.expires_at > ${now} and s.last_seen_at > ${idleSince} and not m.disabled
        returning m.id as staff_id, m.role, m.email, m.name`,
  );
  const row = rows[0];
  return row ? { staffId: row.staff_id, role: row.role, email: row.email, name: row.name } : null;
}

export async function signOutStaffSession(db: Executor, tokenHash: string, now: Date): Promise<void> {
  await db
    .update(staffSessions)
    .set({ signedOutAt: now })
    .where(and(eq(staffSessions.tokenHash, tokenHash), isNull(staffSessions.signedOutAt)));
}

/** Forgets challenges and sessions past their end (maintenance); returns how many rows. */
export async function purgeExpiredStaff(db: Executor, now: Date): Promise<number> {
  const challenges = await db
    .delete(staffChallenges)
    .where(lt(staffChallenges.expiresAt, now))
    .returning({ h: staffChallenges.tokenHash });
  const sessions = await db
    .delete(staffSessions)
    .where(lt(staffSessions.expiresAt, now))
    .returning({ h: staffSessions.tokenHash });
  return challenges.length + sessions.length;
}
