/** SQL for cardholder accounts. Open-to-buy only moves by a delta that can never take it below zero. */
import { count, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { cardAccounts } from "./schema.ts";

export type CardRow = typeof cardAccounts.$inferSelect;

export async function insertCards(db: Executor, rows: Array<typeof cardAccounts.$inferInsert>): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db
    .insert(cardAccounts)
    .values(rows)
    .onConflictDoNothing({ target: cardAccounts.pan })
    .returning({ cardRef: cardAccounts.cardRef });
  return inserted.length;
}

export async function cardByPan(db: Executor, pan: string): Promise<CardRow | null> {
  const [row] = await db.select().from(cardAccounts).where(eq(cardAccounts.pan, pan)).limit(1);
  return row ?? null;
}

export async function cardByRef(db: Executor, cardRef: string): Promise<CardRow | null> {
  const [row] = await db.select().from(cardAccounts).where(eq(cardAccounts.cardRef, cardRef)).limit(1);
  return row ?? null;
}

/** The card's row, locked until the transaction ends: every money movement of one card runs one at a time. */
export async function lockCard(tx: Executor, cardRef: string): Promise<CardRow | null> {
  const [row] = await tx.select().from(cardAccounts).where(eq(cardAccounts.cardRef, cardRef)).for("update").limit(1);
  return row ?? null;
}

/** Moves open-to-buy by `delta` (negative: a hold); false when that would take it below zero or above the limit. */
export async function moveOpenToBuy(tx: Executor, cardRef: string, delta: number): Promise<boolean> {
  const moved = await tx
    .update(cardAccounts)
    .set({ openToBuy: sql`${cardAccounts.openToBuy} + ${delta}` })
    .where(
      sql`${cardAccounts.cardRef} = ${cardRef} and ${cardAccounts.openToBuy} + ${delta} between 0 and ${cardAccounts.creditLimit}`,
    )
    .returning({ cardRef: cardAccounts.cardRef });
  return moved.length === 1;
}

export async function countCards(db: Executor): Promise<number> {
  const [row] = await db.select({ n: count() }).from(cardAccounts);
  return Number(row?.n ?? 0);
}

export async function allCardRefs(db: Executor): Promise<string[]> {
  return (await db.select({ cardRef: cardAccounts.cardRef }).from(cardAccounts)).map((r) => r.cardRef);
}
