/** SQL for recurring (card-on-file) tokens, found by the SHA-256 of the token, never by the token, and their periods. */
import { createHash } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { recurringTokenPeriods, recurringTokens } from "./schema.ts";

export type RecurringTokenRow = typeof recurringTokens.$inferSelect;

export function tokenHashOf(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

export async function insertToken(tx: Executor, row: typeof recurringTokens.$inferInsert): Promise<RecurringTokenRow> {
  const [inserted] = await tx.insert(recurringTokens).values(row).returning();
  if (!inserted) throw new Error("recurring token insert returned nothing");
  return inserted;
}

export async function tokenByValue(db: Executor, token: string): Promise<RecurringTokenRow | null> {
  const [row] = await db
    .select()
    .from(recurringTokens)
    .where(eq(recurringTokens.tokenHash, tokenHashOf(token)))
    .limit(1);
  return row ?? null;
}

/** Revokes the token (idempotent): the row as it now stands, or null when unknown. */
export async function revokeToken(db: Executor, token: string, now: Date): Promise<RecurringTokenRow | null> {
  const hash = tokenHashOf(token);
  await db
    .update(recurringTokens)
    .set({ revokedAt: now })
    .where(and(eq(recurringTokens.tokenHash, hash), isNull(recurringTokens.revokedAt)));
  return tokenByValue(db, token);
}

export async function tokensOfCard(db: Executor, cardRef: string): Promise<RecurringTokenRow[]> {
  return db
    .select()
    .from(recurringTokens)
    .where(eq(recurringTokens.cardRef, cardRef))
    .orderBy(recurringTokens.createdAt);
}

/**
 * Claims one charge of `amount` in a token's period, if the period's count and total leave room for it: one
 * statement, an insert for the period's first charge or else an update whose WHERE re-checks both limits on the
 * row it locks. Two concurrent charges thus queue on that row and the second sees the first's claim: no race
 * passes the limit. False (nothing written) when the charge does not fit.
 */
export async function claimPeriodCharge(
  tx: Executor,
  claim: { tokenId: string; periodStart: Date; amount: number; maxCharges: number; maxTotal: number },
): Promise<boolean> {
  if (claim.amount > claim.maxTotal || claim.maxCharges < 1) return false;
  const t = recurringTokenPeriods;
  const claimed = await tx
    .insert(t)
    .values({ tokenId: claim.tokenId, periodStart: claim.periodStart, charges: 1, total: claim.amount })
    .onConflictDoUpdate({
      target: [t.tokenId, t.periodStart],
      set: { charges: sql`${t.charges} + 1`, total: sql`${t.total} + excluded.total` },
      setWhere: sql`${t.charges} < ${claim.maxCharges} and ${t.total} + excluded.total <= ${claim.maxTotal}`,
    })
    .returning({ charges: t.charges });
  return claimed.length === 1;
}

/** Gives back a claimed charge whose approval did not happen after all (same transaction as the claim). */
export async function releasePeriodCharge(
  tx: Executor,
  claim: { tokenId: string; periodStart: Date; amount: number },
): Promise<void> {
  const t = recurringTokenPeriods;
  await tx
    .update(t)
    .set({ charges: sql`${t.charges} - 1`, total: sql`${t.total} - ${claim.amount}` })
    .where(and(eq(t.tokenId, claim.tokenId), eq(t.periodStart, claim.periodStart)));
}

/** A token's charges and total in the period starting at `periodStart` (zero when it charged nothing there). */
export async function periodUsage(
  db: Executor,
  tokenId: string,
  periodStart: Date,
): Promise<{ charges: number; total: number }> {
  const t = recurringTokenPeriods;
  const [row] = await db
    .select({ charges: t.charges, total: t.total })
    .from(t)
    .where(and(eq(t.tokenId, tokenId), eq(t.periodStart, periodStart)))
    .limit(1);
  return row ?? { charges: 0, total: 0 };
}
