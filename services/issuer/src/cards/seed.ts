/**
 * Seeds an issuer's test cards (cards/test-cards.ts) on start: each missing one is inserted with a new random
 * card reference, the ones already there are left as they are (their balances are the books). An issuer that is
 * not one of the defaults has no test cards.
 */
import { newIssuerId } from "../ids.ts";
import type { Executor } from "../db/client.ts";
import { brandOf, expiryMonthOf } from "./card-facts.ts";
import { insertCards } from "./store.ts";
import { testCardsOf } from "./test-cards.ts";

export async function seedTestCards(db: Executor, issuerId: string, now: Date): Promise<number> {
  const rows = testCardsOf(issuerId).map((card) => ({
    cardRef: newIssuerId("cardRef", now.getTime()),
    pan: card.pan,
    brand: brandOf(card.pan),
    expiryMonth: expiryMonthOf(card.expiry),
    holderName: card.holderName,
    phone: card.phone,
    currency: card.currency,
    creditLimit: card.creditLimit,
    openToBuy: card.creditLimit,
    status: card.status,
    createdAt: now,
  }));
  return insertCards(db, rows);
}
