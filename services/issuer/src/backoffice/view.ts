/** The back office's view of one card: masked PAN, status, money, holds, bindings and tokens, and its books. */
import { periodStart, type BackofficeCard, type BackofficeStatement } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import { IssuerApiError } from "../http/errors.ts";
import { brandOf, isExpired, maskPan } from "../cards/card-facts.ts";
import { cardByRef } from "../cards/store.ts";
import { bindingsOfCard, passkeyCountsOfCard } from "../devices/store.ts";
import { authorizationsOfCard, openHoldsOf, type AuthorizationRow } from "../authorization/store.ts";
import { periodUsage, tokensOfCard, type RecurringTokenRow } from "../recurring/store.ts";
import { signedConsentOf } from "../recurring/charge-schedule.ts";
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
    holds: holds.map((h) => ({
      paymentId: h.paymentId,
      merchantId: h.merchantId,
      amount: h.holdAmount,
      transactionAmount: h.amount,
      transactionCurrency: h.currency,
      authorizationCode: h.authorizationCode ?? "",
    })),
    captured: books.captured,
    refunded: books.refunded,
    books: {
      balanced: books.balanced,
      creditUsed: books.creditUsed,
      holds: books.holds,
      captured: books.captured,
      refunded: books.refunded,
    },
    deviceBindings: bindings.map((b) => ({
      deviceKid: b.deviceKid,
      boundAt: b.boundAt.toISOString(),
      unboundAt: b.unboundAt?.toISOString() ?? null,
      passkeys: passkeys.get(b.id) ?? 0,
    })),
    recurringTokens: await Promise.all(tokens.map((t) => tokenView(db, t, now))),
  };
}

/** A token with the schedule the payer signed and what it has charged in the current period. */
async function tokenView(
  db: Executor,
  token: RecurringTokenRow,
  now: Date,
): Promise<BackofficeCard["recurringTokens"][number]> {
  const consent = signedConsentOf(token);
  const base = {
    merchantId: token.merchantId,
    currency: token.currency,
    maxAmount: token.maxAmount,
    expiresAt: token.expiresAt.toISOString(),
    revokedAt: token.revokedAt?.toISOString() ?? null,
  };
  if (!consent) return { ...base, period: null, thisPeriod: null };
  const start = periodStart(consent.period.interval, now);
  return {
    ...base,
    period: consent.period,
    thisPeriod: { start: start.toISOString(), ...(await periodUsage(db, token.id, start)) },
  };
}

/** The statement's length: the newest authorizations of a card. */
export const STATEMENT_LIMIT = 100;

/** A card's newest authorizations with both amounts (the purchase's and the card's) and the rate between them. */
export async function backofficeStatement(db: Executor, cardRef: string): Promise<BackofficeStatement> {
  const card = await cardByRef(db, cardRef);
  if (!card) throw new IssuerApiError("card_not_found", "No card with this reference at this issuer.");
  const rows = await authorizationsOfCard(db, cardRef, STATEMENT_LIMIT);
  return { cardRef, currency: card.currency, authorizations: rows.map(statementLine) };
}

function statementLine(row: AuthorizationRow): BackofficeStatement["authorizations"][number] {
  const converted = row.billingCurrency !== null && row.billingCurrency !== row.currency;
  return {
    paymentId: row.paymentId,
    merchantId: row.merchantId,
    merchantName: row.merchantName,
    status: row.status as BackofficeStatement["authorizations"][number]["status"],
    declineCode: row.declineCode,
    authorizationCode: row.authorizationCode,
    decidedAt: row.decidedAt.toISOString(),
    transaction: {
      amount: row.amount,
      currency: row.currency,
      captured: row.amountCaptured,
      refunded: row.amountRefunded,
    },
    billing:
      row.billingCurrency === null || row.billingAmount === null
        ? null
        : {
            amount: row.billingAmount,
            currency: row.billingCurrency,
            held: row.holdAmount,
            captured: row.billingCaptured,
            refunded: row.billingRefunded,
          },
    fx: converted && row.fxRate !== null ? { rate: row.fxRate, feeBps: row.fxFeeBps } : null,
  };
}
