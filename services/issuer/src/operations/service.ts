/**
 * Captures, voids and refunds of an approved authorization. Each of these methods needs to be idempotent: the pay
 * server sends an operation id, and a retry with the same id has one effect and gets the same answer (stored with
 * the operation). The same id for another payment, type or amount is refused (`operation_not_allowed`).
 *
 * Rules (checked under the authorization's row lock, then the card's):
 * - capture: once, of an approved (not yet captured or voided) authorization, at most the authorized amount; the
 *   rest of the hold goes back to open-to-buy.
 * - void: of an approved authorization before capture; the whole hold goes back.
 * - refund: of a captured authorization; all refunds together at most the captured amount; each restores
 *   open-to-buy.
 * A refused operation changes nothing and is not stored: a retry is judged again.
 *
 * Amounts asked and answered are in the purchase's currency (the acquirer's); open-to-buy moves in the card's.
 * A purchase in a foreign currency is billed at its authorization's rate and fee, from the total so far
 * (fx/conversion.ts): a capture bills `billed(captured)` and releases the rest of the hold, refunds bill
 * `billed(refunded so far)` minus what earlier refunds billed, so refunds of the whole capture release exactly what
 * the capture billed, whatever the rate is by then.
 */
import type { IssuerOperationAnswer } from "@mpay/protocol";
import { isUniqueViolation, type Executor } from "../db/client.ts";
import { IssuerApiError } from "../http/errors.ts";
import type { IssuerCore } from "../issuer-core.ts";
import { lockCard, moveOpenToBuy } from "../cards/store.ts";
import { billedAmount, type FxTerms } from "../fx/conversion.ts";
import { recordOf } from "../authorization/records.ts";
import {
  lockAuthorization,
  updateAuthorization,
  type AuthorizationRow,
  type NewAuthorization,
} from "../authorization/store.ts";
import { insertOperation, operationOf, type OperationRow } from "./store.ts";

type OperationType = IssuerOperationAnswer["type"];

interface Effect {
  amount: number;
  changes: Partial<NewAuthorization>;
  /** Back to the card's open-to-buy, in the card's currency. */
  release: number;
}

function notAllowed(message: string): IssuerApiError {
  return new IssuerApiError("operation_not_allowed", message);
}

/** `amount` of the authorization's currency in the card's, at the authorization's rate and fee. */
function billed(row: AuthorizationRow, amount: number): number {
  if (row.billingCurrency === null || row.fxRate === null) throw new Error(`${row.paymentId} has no billing terms`);
  const terms: FxTerms = { billingCurrency: row.billingCurrency, rate: row.fxRate, feeBps: row.fxFeeBps };
  return billedAmount(amount, row.currency, terms).billed;
}

export class OperationService {
  constructor(private readonly issuer: IssuerCore) {}

  capture(paymentId: string, operationId: string, amount: number): Promise<IssuerOperationAnswer> {
    return this.run(paymentId, operationId, "capture", amount, (row) => {
      if (row.status === "captured") throw notAllowed("This payment is already captured; a payment is captured once.");
      if (row.status !== "approved") throw notAllowed(`A ${row.status} payment cannot be captured.`);
      if (amount > row.amount)
        throw new IssuerApiError("amount_exceeds_authorized", "The capture is larger than the authorized amount.");
      const billingCaptured = billed(row, amount);
      return {
        amount,
        changes: { status: "captured", amountCaptured: amount, billingCaptured, holdAmount: 0 },
        release: row.holdAmount - billingCaptured,
      };
    });
  }

  void(paymentId: string, operationId: string): Promise<IssuerOperationAnswer> {
    return this.run(paymentId, operationId, "void", undefined, (row) => {
      if (row.status !== "approved")
        throw notAllowed(`A ${row.status} payment cannot be voided; only an approved one before capture.`);
      // The answer is in the purchase's currency (the whole authorization); the release in the card's.
      return { amount: row.amount, changes: { status: "voided", holdAmount: 0 }, release: row.holdAmount };
    });
  }

  refund(paymentId: string, operationId: string, amount: number): Promise<IssuerOperationAnswer> {
    return this.run(paymentId, operationId, "refund", amount, (row) => {
      if (row.status !== "captured")
        throw notAllowed(`A ${row.status} payment cannot be refunded; only a captured one.`);
      if (row.amountRefunded + amount > row.amountCaptured)
        throw new IssuerApiError(
          "amount_exceeds_captured",
          "The refunds would add up to more than the captured amount.",
        );
      const amountRefunded = row.amountRefunded + amount;
      const billingRefunded = amountRefunded === row.amountCaptured ? row.billingCaptured : billed(row, amountRefunded);
      return {
        amount,
        changes: { amountRefunded, billingRefunded },
        release: billingRefunded - row.billingRefunded,
      };
    });
  }

  private async run(
    paymentId: string,
    operationId: string,
    type: OperationType,
    amount: number | undefined,
    rule: (row: AuthorizationRow) => Effect,
  ): Promise<IssuerOperationAnswer> {
    const now = this.issuer.now();
    try {
      return await this.issuer.db.transaction(async (tx) => {
        const row = await lockAuthorization(tx, paymentId);
        if (!row)
          throw new IssuerApiError(
            "authorization_not_found",
            "This issuer never received an authorization request for this payment.",
          );
        const prior = await operationOf(tx, operationId);
        if (prior) return replay(prior, paymentId, type, amount);
        if (row.decision !== "approved" || !row.cardRef)
          throw notAllowed(
            `A declined payment cannot be ${type === "capture" ? "captured" : type === "void" ? "voided" : "refunded"}.`,
          );
        const effect = rule(row);
        return this.apply(tx, row, operationId, type, effect, now);
      });
    } catch (error) {
      // The same operation id, sent twice at once: the one that committed first answers both.
      if (!isUniqueViolation(error)) throw error;
      const prior = await operationOf(this.issuer.db, operationId);
      if (!prior) throw error;
      return replay(prior, paymentId, type, amount);
    }
  }

  private async apply(
    tx: Executor,
    row: AuthorizationRow,
    operationId: string,
    type: OperationType,
    effect: Effect,
    now: Date,
  ): Promise<IssuerOperationAnswer> {
    const cardRef = row.cardRef!;
    await lockCard(tx, cardRef);
    const updated = await updateAuthorization(tx, row.paymentId, effect.changes);
    if (effect.release > 0 && !(await moveOpenToBuy(tx, cardRef, effect.release)))
      throw new Error(`open-to-buy of ${cardRef} would pass its credit limit`);
    const answer: IssuerOperationAnswer = {
      operationId,
      paymentId: row.paymentId,
      type,
      amount: effect.amount,
      processedAt: now.toISOString(),
      authorization: recordOf(updated),
    };
    await insertOperation(tx, {
      operationId,
      paymentId: row.paymentId,
      type,
      amount: effect.amount,
      answer,
      processedAt: now,
    });
    this.issuer.log.info(
      { event: type, paymentId: row.paymentId, operationId, amount: effect.amount, released: effect.release, cardRef },
      `${type} processed`,
    );
    return answer;
  }
}

function replay(
  prior: OperationRow,
  paymentId: string,
  type: OperationType,
  amount: number | undefined,
): IssuerOperationAnswer {
  if (prior.paymentId !== paymentId || prior.type !== type || (amount !== undefined && prior.amount !== amount)) {
    throw notAllowed("This operationId was already used for another operation.");
  }
  return prior.answer as unknown as IssuerOperationAnswer;
}
