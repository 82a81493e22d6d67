/**
 * The SQL every password + TOTP sign-in shares (the merchant dashboard's users, the console's staff), written once
 * over a context's own tables: its members (the TOTP replay guard), its single-use challenges between password and
 * code, and its sessions with an absolute and an idle end. Each context keeps its tables in its schema.ts and makes
 * one `SignInStore` of them in its store.ts; this module names no table and imports no context.
 */
import { and, eq, getTableColumns, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { queryRows, type Executor } from "../db/client.ts";

/** A context's sign-in members table: who signs in, with the TOTP seed and its replay guard. */
export type MemberTable = PgTable & {
  id: PgColumn;
  email: PgColumn;
  disabled: PgColumn;
  sealedTotpSecret: PgColumn;
  totpLastStep: PgColumn;
  lastSignInAt: PgColumn;
};

/** A context's challenge table: `token_hash`, a counter of wrong codes, spent once used or after too many. */
export type ChallengeTable = PgTable & {
  tokenHash: PgColumn;
  failures: PgColumn;
  usedAt: PgColumn;
  expiresAt: PgColumn;
};

/** A context's session table: `token_hash`, the member it belongs to, its absolute and idle ends, its sign-out. */
export type SessionTable = PgTable & {
  tokenHash: PgColumn;
  expiresAt: PgColumn;
  lastSeenAt: PgColumn;
  signedOutAt: PgColumn;
};

export interface SignInTables<M extends MemberTable, C extends ChallengeTable, S extends SessionTable> {
  members: M;
  challenges: C;
  sessions: S;
  /** The session's column that names its member (`user_id`, `staff_id`). */
  sessionMember: PgColumn;
}

/** A live session: its member's row (as the members table reads) and the session's absolute end. */
export interface LiveSessionOf<M extends MemberTable> {
  member: M["$inferSelect"];
  expiresAt: Date;
}

// The builders' own types cannot follow a table that is only known to have these columns; each row is typed by the
// table the context passes in, so the casts below stand at that one boundary.
type Row = Record<string, unknown>;

export class SignInStore<M extends MemberTable, C extends ChallengeTable, S extends SessionTable> {
  constructor(private readonly t: SignInTables<M, C, S>) {}

  /** Inserts a member; null when the email is taken. */
  async insertMember(db: Executor, row: M["$inferInsert"]): Promise<M["$inferSelect"] | null> {
    const rows = await db
      .insert(this.t.members as PgTable)
      .values(row as Row)
      .onConflictDoNothing()
      .returning();
    return (rows[0] as M["$inferSelect"] | undefined) ?? null;
  }

  /** The member with this email (already lower-cased), or null. */
  findMemberByEmail(db: Executor, email: string): Promise<M["$inferSelect"] | null> {
    return this.#findMemberWhere(db, eq(this.t.members.email, email));
  }

  findMember(db: Executor, id: string): Promise<M["$inferSelect"] | null> {
    return this.#findMemberWhere(db, eq(this.t.members.id, id));
  }

  async #findMemberWhere(db: Executor, where: SQL): Promise<M["$inferSelect"] | null> {
    const rows = await db
      .select()
      .from(this.t.members as PgTable)
      .where(where);
    return (rows[0] as M["$inferSelect"] | undefined) ?? null;
  }

  /**
   * Accepts a TOTP time step only past the last one accepted, in one conditional UPDATE (the replay guard): of two
   * concurrent sign-ins with the same code only one gets through. `sealedTotpSecret` is set on a first setup.
   */
  async acceptTotpStep(tx: Executor, id: string, step: number, now: Date, sealedTotpSecret?: string): Promise<boolean> {
    const { members } = this.t;
    const set: Row = { totpLastStep: step, lastSignInAt: now, ...(sealedTotpSecret ? { sealedTotpSecret } : {}) };
    const rows = await tx
      .update(members as PgTable)
      .set(set)
      .where(and(eq(members.id, id), or(isNull(members.totpLastStep), lt(members.totpLastStep, step))))
      .returning({ id: members.id });
    return rows.length === 1;
  }

  /** Sets a member's TOTP seed (sealed); a fresh seed starts its own replay guard. False when there is no such member. */
  async writeTotpSecret(db: Executor, id: string, sealedTotpSecret: string): Promise<boolean> {
    const { members } = this.t;
    const set: Row = { sealedTotpSecret, totpLastStep: null };
    const rows = await db
      .update(members as PgTable)
      .set(set)
      .where(eq(members.id, id))
      .returning({ id: members.id });
    return rows.length === 1;
  }

  async insertChallenge(db: Executor, row: C["$inferInsert"]): Promise<void> {
    await db.insert(this.t.challenges as PgTable).values(row as Row);
  }

  /** The challenge, locked until the transaction ends (a second try with it waits, then sees it spent). */
  async lockChallenge(tx: Executor, tokenHash: string): Promise<C["$inferSelect"] | null> {
    const { challenges } = this.t;
    const rows = await tx
      .select()
      .from(challenges as PgTable)
      .where(eq(challenges.tokenHash, tokenHash))
      .for("update");
    return (rows[0] as C["$inferSelect"] | undefined) ?? null;
  }

  async spendChallenge(tx: Executor, tokenHash: string, now: Date): Promise<void> {
    const { challenges } = this.t;
    const set: Row = { usedAt: now };
    await tx
      .update(challenges as PgTable)
      .set(set)
      .where(eq(challenges.tokenHash, tokenHash));
  }

  /** Counts a wrong code on the challenge; at `max` it is spent. */
  async countChallengeFailure(tx: Executor, tokenHash: string, now: Date, max: number): Promise<void> {
    const { challenges } = this.t;
    const set: Row = {
      failures: sql`${challenges.failures} + 1`,
      usedAt: sql`case when ${challenges.failures} + 1 >= ${max} then ${now.toISOString()}::timestamptz else null end`,
    };
    await tx
      .update(challenges as PgTable)
      .set(set)
      .where(eq(challenges.tokenHash, tokenHash));
  }

  async insertSession(db: Executor, row: S["$inferInsert"]): Promise<void> {
    await db.insert(this.t.sessions as PgTable).values(row as Row);
  }

  /**
   * The session's member when the session is live (not signed out, before its absolute end, used within the idle
   * window) and the member not disabled; moves its idle end forward in the same statement.
   */
  async touchSession(db: Executor, tokenHash: string, now: Date, idleSince: Date): Promise<LiveSessionOf<M> | null> {
    const { members, sessions, sessionMember } = this.t;
    const col = (c: PgColumn) => sql.identifier(c.name);
    const rows = await queryRows<Row>(
      db,
      sql`update ${sessions} s set ${col(sessions.lastSeenAt)} = ${now}
          from ${members} m
          where s.${col(sessions.tokenHash)} = ${tokenHash} and m.${col(members.id)} = s.${col(sessionMember)}
            and s.${col(sessions.signedOutAt)} is null and s.${col(sessions.expiresAt)} > ${now}
            and s.${col(sessions.lastSeenAt)} > ${idleSince} and not m.${col(members.disabled)}
          returning m.*, s.${col(sessions.expiresAt)} as "session_expires_at"`,
    );
    const row = rows[0];
    if (!row) return null;
    // `m.*` comes back by column name as the driver reads it: map it to the table's keys and types, as a select does.
    const member: Row = {};
    for (const [key, column] of Object.entries(getTableColumns(members))) {
      const value = row[column.name];
      member[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
    }
    return {
      member: member as M["$inferSelect"],
      expiresAt: new Date(row["session_expires_at"] as Date | string),
    };
  }

  async signOutSession(db: Executor, tokenHash: string, now: Date): Promise<void> {
    const { sessions } = this.t;
    const set: Row = { signedOutAt: now };
    await db
      .update(sessions as PgTable)
      .set(set)
      .where(and(eq(sessions.tokenHash, tokenHash), isNull(sessions.signedOutAt)));
  }

  /** Ends every session of a member (disabled, or a role change that must take effect everywhere at once). */
  async signOutMember(db: Executor, memberId: string, now: Date): Promise<void> {
    const { sessions, sessionMember } = this.t;
    const set: Row = { signedOutAt: now };
    await db
      .update(sessions as PgTable)
      .set(set)
      .where(and(eq(sessionMember, memberId), isNull(sessions.signedOutAt)));
  }

  /** Forgets challenges and sessions past their end (maintenance); returns how many rows. */
  async purgeExpired(db: Executor, now: Date): Promise<number> {
    const { challenges, sessions } = this.t;
    const gone = await db
      .delete(challenges as PgTable)
      .where(lt(challenges.expiresAt, now))
      .returning({ h: challenges.tokenHash });
    const ended = await db
      .delete(sessions as PgTable)
      .where(lt(sessions.expiresAt, now))
      .returning({ h: sessions.tokenHash });
    return gone.length + ended.length;
  }
}
