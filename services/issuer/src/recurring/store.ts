/** SQL for recurring (card-on-file) tokens, found by the SHA-256 of the token, never by the token. */
import { createHash } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { recurringTokens } from "../db/schema.ts";

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
  const [row] = await db.select().from(recurringTokens).where(eq(recurringTokens.tokenHash, tokenHashOf(token))).limit(1);
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
  return db.select().from(recurringTokens).where(eq(recurringTokens.cardRef, cardRef)).orderBy(recurringTokens.createdAt);
}
