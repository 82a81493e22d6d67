/**
 * Captures, voids and refunds of payments an issuer holds (issue 4: "Capture, cancel and refund reach the
 * issuer"). Each runs inside the merchant request's transaction, with the payment row locked:
 * an operation row `pending` → the issuer, idempotent by the operation's id → the row `done` and the caller
 * records the change. When the issuer does not answer, the outcome is unknown: `OutcomePending` commits the
 * pending row (and nothing else happens to the payment), the merchant gets `issuer_unavailable` (replayed for
 * the same Idempotency-Key), and the reconciler repeats the same operation (same id: one effect at the issuer)
 * and records what it says.
 * While an operation is in doubt, the payment takes no other (one pending operation per payment).
 * Authorization requests go on the same log (authorizations/ opens and ends them through this class, which
 * system.ts hands it), so that one reconciler settles every call whose answer was lost.
 */
import { newId, type AuthorizationRecord } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import { ApiError, OutcomePending } from "../http/errors.ts";
import { IssuerError } from "../issuers/connector.ts";
import { toApiError, type IssuerService } from "../issuers/service.ts";
import type { IssuerOperationLog } from "../authorizations/service.ts";
import type { IssuerOperations as PaymentsIssuerOperations } from "../payments/service.ts";
import type { IssuerOperationKind } from "./schema.ts";
import {
  endOperation,
  insertOperation,
  operationsOf,
  pendingOperations,
  postponeOperation,
  type IssuerOperationRow,
} from "./store.ts";
import { faultPoint } from "../fault-points.ts";

export interface HeldPayment {
  id: string;
  merchantId: string;
  issuerId: string | null;
  /** The pay server's books for the payment, to recognise an effect the issuer applied but the pay server lost. */
  status?: string;
  amountCaptured?: number;
  amountRefunded?: number;
}

export type SettlementKind = Exclude<IssuerOperationKind, "authorize">;

export interface NewOperation {
  paymentId: string;
  merchantId: string;
  issuerId: string;
  kind: IssuerOperationKind;
  amount?: number | null;
  /** For an authorization: the signed terms' expiry, after which the issuer can no longer accept them. */
  deadlineAt?: Date | null;
}

export class IssuerOperations implements PaymentsIssuerOperations, IssuerOperationLog {
  constructor(private readonly issuers: IssuerService) {}

  /** Runs one operation at the issuer for a locked payment, recording it; throws OutcomePending when in doubt. */
  async run(
    tx: Executor,
    payment: HeldPayment,
    kind: SettlementKind,
    amount?: number,
    refundId?: string,
  ): Promise<AuthorizationRecord> {
    if (!payment.issuerId) throw new ApiError("payment_invalid_state", "This payment has no issuer to settle with.");
    const op = await insertOperation(tx, {
      id: newId("issuerOperation"),
      paymentId: payment.id,
      merchantId: payment.merchantId,
      issuerId: payment.issuerId,
      kind,
      amount: amount ?? null,
      refundId: refundId ?? null,
      status: "pending",
    });
    if (!op)
      throw new ApiError(
        "payment_invalid_state",
        "An earlier operation on this payment is still being settled with the card issuer; retry in a few seconds.",
      );
    let record: AuthorizationRecord;
    try {
      faultPoint(`${kind}.before-issuer`);
      record = await this.send(op);
    } catch (error) {
      if (error instanceof IssuerError && error.kind === "unavailable") {
        throw new OutcomePending(
          new ApiError(
            "issuer_unavailable",
            `The card issuer did not answer; the ${kind} is being settled with it and will show on the payment.`,
          ),
        );
      }
      const applied = await this.appliedBefore(payment, kind, amount, error);
      if (applied === null) {
        // Ended, so that a caller that goes on after a refusal (the expiry, finding a capture the issuer holds)
        // leaves nothing pending; a caller that lets the refusal go rolls this back with the rest.
        if (error instanceof IssuerError) await endOperation(tx, op.id, "failed", error.code);
        throw refusal(kind, error);
      }
      record = applied;
    }
    faultPoint(`${kind}.after-issuer`);
    await endOperation(tx, op.id, "done");
    return record;
  }

  /**
   * A refusal that is the issuer's memory of this very request: the pay server crashed after the issuer applied an
   * earlier attempt and before its own commit, which rolled back the operation row and the Idempotency-Key's
   * reservation with it (found by `npm run drill -- crash`). The merchant's retry then meets "already captured" (or
   * voided, or refunded), at once or, when the retry's own answer was lost too, when the reconciler sends it again.
   * When the issuer's books are exactly ours plus this request, the request is recorded as done with the issuer's
   * record; any other difference stays a refusal, for a person to look at.
   */
  async appliedBefore(
    payment: HeldPayment,
    kind: SettlementKind,
    amount: number | undefined,
    error: unknown,
  ): Promise<AuthorizationRecord | null> {
    if (!(error instanceof IssuerError) || error.kind !== "refused" || !payment.issuerId) return null;
    if (error.code !== "operation_not_allowed" && error.code !== "amount_exceeds_captured") return null;
    if (payment.amountCaptured === undefined || payment.amountRefunded === undefined) return null;
    const record = await this.issuers.inquire(payment.issuerId, payment.id).catch(() => null);
    if (record === null) return null;
    const ours = payment.status === "authorized" && payment.amountCaptured === 0 && payment.amountRefunded === 0;
    const applied =
      kind === "capture"
        ? ours && record.status === "captured" && record.amountCaptured === amount && record.amountRefunded === 0
        : kind === "void"
          ? ours && record.status === "voided"
          : record.status === "captured" &&
            record.amountCaptured === payment.amountCaptured &&
            record.amountRefunded === payment.amountRefunded + (amount ?? 0);
    return applied ? record : null;
  }

  /**
   * The issuer's record when it holds a capture of this payment that the pay server never recorded: the issuer
   * applied it, the pay server died before its own commit, and the merchant never retried. Only the issuer
   * captures on the pay server's word, so such a capture is ours, lost; null for anything else (or no answer).
   */
  async lostCapture(payment: HeldPayment & { amount: number }): Promise<AuthorizationRecord | null> {
    if (!payment.issuerId || payment.status !== "authorized") return null;
    if (payment.amountCaptured !== 0 || payment.amountRefunded !== 0) return null;
    const record = await this.issuers.inquire(payment.issuerId, payment.id).catch(() => null);
    const captured =
      record !== null &&
      record.status === "captured" &&
      record.amountCaptured > 0 &&
      record.amountCaptured <= payment.amount &&
      record.amountRefunded === 0;
    return captured ? record : null;
  }

  /** The reconciler's queue: how many operations are in doubt, and the oldest `limit` of them (operator console). */
  queue(db: Executor, limit = 20): Promise<{ count: number; oldest: IssuerOperationRow[] }> {
    return pendingOperations(db, limit);
  }

  /** True while an operation on the payment waits for the reconciler (its outcome at the issuer is unknown). */
  async inDoubt(tx: Executor, paymentId: string): Promise<boolean> {
    return (await operationsOf(tx, paymentId)).some((op) => op.status === "pending");
  }

  /**
   * Records an operation `pending` before it is sent (authorizations/ records its own requests here, and a void
   * that compensates an orphan approval); null when the payment already has one pending (or, for `authorize`, any).
   */
  open(db: Executor, op: NewOperation): Promise<IssuerOperationRow | null> {
    return insertOperation(db, { id: newId("issuerOperation"), ...op, status: "pending" });
  }

  /** Ends a pending operation once; false when another process (the reconciler) settled it first. */
  end(db: Executor, id: string, status: "done" | "failed", lastError: string | null = null): Promise<boolean> {
    return endOperation(db, id, status, lastError);
  }

  /** Leaves an operation in doubt for a later pass of the reconciler (backing off). */
  postpone(db: Executor, id: string, lastError: string): Promise<void> {
    return postponeOperation(db, id, lastError);
  }

  /** Sends (or re-sends) an operation; the issuer applies an operation id once. */
  send(
    op: Pick<IssuerOperationRow, "id" | "issuerId" | "paymentId" | "kind" | "amount">,
  ): Promise<AuthorizationRecord> {
    const { issuers } = this;
    switch (op.kind) {
      case "capture":
        return issuers.capture(op.issuerId, op.paymentId, { operationId: op.id, amount: op.amount ?? 0 });
      case "void":
        return issuers.void(op.issuerId, op.paymentId, { operationId: op.id });
      case "refund":
        return issuers.refund(op.issuerId, op.paymentId, { operationId: op.id, amount: op.amount ?? 0 });
      case "authorize":
        throw new Error("authorizations are not re-sent: they are inquired");
    }
  }
}

/** The issuer said no: the books there disagree with ours, which is ours to explain, not the merchant's to guess. */
function refusal(kind: SettlementKind, error: unknown): unknown {
  if (!(error instanceof IssuerError)) return error;
  if (error.kind === "not_sent") return toApiError(error); // never sent: the caller's transaction drops the operation
  if (
    error.code === "amount_exceeds_authorized" ||
    error.code === "amount_exceeds_captured" ||
    error.code === "operation_not_allowed"
  ) {
    return new ApiError("payment_invalid_state", `The card issuer refused the ${kind} (${error.code}).`);
  }
  return new ApiError("issuer_unavailable", `The card issuer refused the ${kind} (${error.code.slice(0, 40)}).`);
}
