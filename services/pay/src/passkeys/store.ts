import { and, eq, isNull, lt, sql } from "drizzle-orm";
import { namedStatement } from "@mpay/service-kit";
import type { Executor } from "../db/client.ts";
import { passkeyChallenges, passkeys } from "./schema.ts";

export type PasskeyRow = typeof passkeys.$inferSelect;
export type PasskeyChallengeRow = typeof passkeyChallenges.$inferSelect;

export async function passkeysOf(db: Executor, payerId: string): Promise<PasskeyRow[]> {
  return db.select().from(passkeys).where(eq(passkeys.payerId, payerId)).orderBy(passkeys.createdAt);
}

export async function findPasskey(db: Executor, id: string): Promise<PasskeyRow | null> {
  const rows = await db.select().from(passkeys).where(eq(passkeys.id, id));
  return rows[0] ?? null;
}

/**
 * Serializes adding passkeys for one payer until the transaction ends, so the limit is exact. A row lock cannot
 * do it (a payer with no passkey has no row to lock), hence a transaction-scoped advisory lock on the payer.
 */
export async function lockPasskeysOf(tx: Executor, payerId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`passkeys|${payerId}`}, 0))`);
}

/** Inserts a credential; false when its id is already registered (to anyone). */
export async function insertPasskey(tx: Executor, row: typeof passkeys.$inferInsert): Promise<PasskeyRow | null> {
  const rows = await tx.insert(passkeys).values(row).onConflictDoNothing().returning();
  return rows[0] ?? null;
}

/** What a payment approval reads of the passkey that signed it. */
export interface ApprovingPasskey {
  id: string;
  payerId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  transports: string[];
  revoked: boolean;
}

/**
 * The passkey of an approval, read by a prepared statement (issue 11: the approval path runs it on every passkey
 * payment), with only what the verification needs.
 */
const approvingPasskey = namedStatement<{
  id: string;
  payer_id: string;
  public_key: string;
  transports: string[];
  revoked: boolean;
}>(
  "passkeys_approving",
  sql`select id, payer_id, public_key, transports, revoked_at is not null as revoked
  from passkeys where id = ${sql.placeholder("id")}`,
);

export async function findApprovingPasskey(db: Executor, id: string): Promise<ApprovingPasskey | null> {
  const [row] = await approvingPasskey.run(db, { id });
  return row
    ? { id: row.id, payerId: row.payer_id, publicKey: row.public_key, transports: row.transports, revoked: row.revoked }
    : null;
}

const advance = namedStatement<{ advanced: number }>(
  "passkeys_advance_sign_count",
  sql`update passkeys set sign_count = ${sql.placeholder("signCount")}::bigint
  where id = ${sql.placeholder("id")} and payer_id = ${sql.placeholder("payerId")} and revoked_at is null
    and (sign_count < ${sql.placeholder("signCount")}::bigint
      or (sign_count = 0 and ${sql.placeholder("signCount")}::bigint = 0))
  returning 1 as advanced`,
);

/**
 * Moves the sign counter to `signCount` in one conditional UPDATE, only for the payer's unrevoked passkey and
 * only forward: a counter that does not grow past a stored non-zero one (a cloned authenticator, or a replay) is
 * refused, and of two concurrent assertions with the same counter only one gets through. Authenticators that
 * keep no counter report 0 every time (WebAuthn §6.1.1), which stays allowed while the stored one is 0. A
 * prepared statement: every passkey approval runs it.
 */
export async function advanceSignCount(db: Executor, id: string, payerId: string, signCount: number): Promise<boolean> {
  return (await advance.run(db, { id, payerId, signCount })).length === 1;
}

export async function revokePasskey(tx: Executor, id: string, payerId: string): Promise<PasskeyRow | null> {
  const rows = await tx
    .update(passkeys)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(passkeys.id, id), eq(passkeys.payerId, payerId), isNull(passkeys.revokedAt)))
    .returning();
  return rows[0] ?? null;
}

/** Stores a registration challenge as the payer's only outstanding one (an older one stops working). */
export async function putRegistrationChallenge(
  db: Executor,
  row: typeof passkeyChallenges.$inferInsert,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(passkeyChallenges).where(eq(passkeyChallenges.payerId, row.payerId));
    await tx.insert(passkeyChallenges).values(row);
  });
}

/** Takes the challenge out (single use): a second finish with it finds nothing, in any process. */
export async function takeChallenge(
  db: Executor,
  payerId: string,
  challenge: string,
): Promise<PasskeyChallengeRow | null> {
  const rows = await db
    .delete(passkeyChallenges)
    .where(and(eq(passkeyChallenges.challenge, challenge), eq(passkeyChallenges.payerId, payerId)))
    .returning();
  return rows[0] ?? null;
}

export async function purgeChallenges(db: Executor, now: Date): Promise<number> {
  const rows = await db
    .delete(passkeyChallenges)
    .where(lt(passkeyChallenges.expiresAt, now))
    .returning({ challenge: passkeyChallenges.challenge });
  return rows.length;
}
