/** The back office's view of one card: masked PAN, status, money, holds, bindings and tokens, and its books. */
import type { BackofficeCard } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import { IssuerApiError } from "../http/errors.ts";
import { brandOf, isExpired, maskPan } from "../cards/card-facts.ts";
import { cardByRef } from "../cards/store.ts";
import { bindingsOfCard, passkeyCountsOfCard } from "../devices/store.ts";
import { openHoldsOf } from "../authorization/store.ts";
import { tokensOfCard } from "../recurring/store.ts";
import { cardBooks } from "./books.ts";

export async function backofficeCard(db: Executor, cardRef: string, now: Date): Promise<BackofficeCard> {
  const card = await cardByRef(db, cardRef);
  if (!card) throw new IssuerApiError("card_not_found", "No card with this reference at this issuer.");
  const [[books], holds, bindings, passkeys, tokens] = await Promise.all([
    cardBooks(db, [cardRef]),
    openHoldsOf(db, cardRef),
    bindingsOfCard(db, cardRef),
    passkeyCountsOfCard(db, cardRef),
    tokensOfCard(db, cardRef),
  ]);
  if (!books) throw new Error("a card without books");
  return {
    cardRef,
    maskedPan: maskPan(card.pan),
    brand: brandOf(card.pan),
    expiryMonth: card.expiryMonth,
    status: card.status === "active" && isExpired(card.expiryMonth, now) ? "expired" : card.status,
    currency: card.currency,
    creditLimit: card.creditLimit,
    openToBuy: card.openToBuy,
    holds: holds.map((h) => ({ paymentId: h.paymentId, merchantId: h.merchantId, amount: h.holdAmount, authorizationCode: h.authorizationCode ?? "" })),
    captured: books.captured,
    refunded: books.refunded,
    books: { balanced: books.balanced, creditUsed: books.creditUsed, holds: books.holds, captured: books.captured, refunded: books.refunded },
    deviceBindings: bindings.map((b) => ({ deviceKid: b.deviceKid, boundAt: b.boundAt.toISOString(), unboundAt: b.unboundAt?.toISOString() ?? null, passkeys: passkeys.get(b.id) ?? 0 })),
    recurringTokens: tokens.map((t) => ({ merchantId: t.merchantId, maxAmount: t.maxAmount, expiresAt: t.expiresAt.toISOString(), revokedAt: t.revokedAt?.toISOString() ?? null })),
  };
}
