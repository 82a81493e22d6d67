/**
 * The issuer's books must balance, card by card: credit limit − open-to-buy = open holds + captured − refunded.
 * Every money movement (hold, capture, release, void, refund) keeps this in one transaction under the card's row
 * lock; this check proves it from the tables, for the back office and the tests.
 */
import type { Executor } from "../db/client.ts";
import { cardAccounts } from "../cards/schema.ts";
import { totalsByCard } from "../authorization/store.ts";
import { inArray } from "drizzle-orm";

export interface CardBooks {
  cardRef: string;
  creditLimit: number;
  openToBuy: number;
  /** creditLimit − openToBuy. */
  creditUsed: number;
  holds: number;
  captured: number;
  refunded: number;
  balanced: boolean;
}

export interface BooksCheck {
  balanced: boolean;
  cards: number;
  imbalances: CardBooks[];
}

export async function cardBooks(db: Executor, cardRefs?: string[]): Promise<CardBooks[]> {
  const accounts = await db
    .select({ cardRef: cardAccounts.cardRef, creditLimit: cardAccounts.creditLimit, openToBuy: cardAccounts.openToBuy })
    .from(cardAccounts)
    .where(cardRefs ? inArray(cardAccounts.cardRef, cardRefs) : undefined);
  const totals = await totalsByCard(db, cardRefs);
  return accounts.map((account) => {
    const { holds, captured, refunded } = totals.get(account.cardRef) ?? { holds: 0, captured: 0, refunded: 0 };
    const creditUsed = account.creditLimit - account.openToBuy;
    return { ...account, creditUsed, holds, captured, refunded, balanced: creditUsed === holds + captured - refunded };
  });
}

export async function checkBooks(db: Executor): Promise<BooksCheck> {
  const books = await cardBooks(db);
  const imbalances = books.filter((b) => !b.balanced);
  return { balanced: imbalances.length === 0, cards: books.length, imbalances };
}
