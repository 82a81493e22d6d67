/**
 * Settles what a lost answer left in doubt (issue 4: "a reconciler settles what is left after a crash"), as a
 * maintenance task that every pay-server process may run (rows are taken under `SKIP LOCKED` locks):
 * - an authorization sent without an answer: the issuer is asked (inquiry) and its decision recorded;
 * - a capture, void or refund in doubt: the same operation is sent again (same id: one effect at the issuer) and
 *   what the issuer confirms is recorded here;
 * - an unbind of a revoked device the issuer has not acknowledged: sent again.
 */
import type { Logger } from "pino";
import type { AuthorizationRecord } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import type { AuthorizationService } from "../authorizations/service.ts";
import type { PaymentService } from "../payments/service.ts";
import type { RefundService } from "../refunds/service.ts";
import type { VaultService } from "../vault/service.ts";
import { IssuerError } from "../issuers/connector.ts";
import type { IssuerOperations } from "./operations.ts";
import {
  duePendingOperations,
  endOperation,
  lockPendingOperation,
  postponeOperation,
  type IssuerOperationRow,
} from "./store.ts";
import { faultPoint } from "../fault-points.ts";

export class IssuerReconciler {
  constructor(
    private readonly db: Db,
    private readonly operations: IssuerOperations,
    private readonly authorizations: AuthorizationService,
    private readonly payments: PaymentService,
    private readonly refunds: RefundService,
    private readonly vault: VaultService,
    private readonly log: Logger,
  ) {}

  /** One pass over what is due at `now`; returns how many operations were settled. */
  async runOnce(limit = 50, now = new Date()): Promise<number> {
    let settled = 0;
    for (const op of await duePendingOperations(this.db, limit, now)) {
      try {
        if (await this.#settle(op)) settled++;
        faultPoint("reconciler.after-commit");
      } catch (error) {
        this.log.warn(
          { operation: op.id, kind: op.kind, err: error instanceof Error ? error.message : String(error) },
          "could not settle an issuer operation yet",
        );
        await postponeOperation(this.db, op.id, error instanceof IssuerError ? error.code : "settling failed");
      }
    }
    settled += await this.vault.retryUnbinds(limit, now);
    return settled;
  }

  async #settle(op: IssuerOperationRow): Promise<boolean> {
    faultPoint("reconciler.before-issuer");
    if (op.kind === "authorize") return (await this.authorizations.settle(op)) !== null;
    const kind = op.kind;
    let record: AuthorizationRecord | null = null;
    let refused: IssuerError | null = null;
    try {
      record = await this.operations.send(op);
    } catch (error) {
      if (!(error instanceof IssuerError) || error.kind !== "refused") throw error;
      refused = error;
    }
    if (record) faultPoint("reconciler.after-issuer");
    return this.db.transaction(async (tx) => {
      if (!(await lockPendingOperation(tx, op.id))) return false; // settled meanwhile by another process
      if (refused) {
        // Either an earlier attempt of the same request applied it and its commit here was lost in a crash (the
        // issuer's books are exactly ours plus this operation: record it), or the issuer's books contradict ours:
        // nothing happened there, so nothing happens here.
        const payment = await this.payments.lockById(tx, op.paymentId);
        record = payment && (await this.operations.appliedBefore(payment, kind, op.amount ?? undefined, refused));
        if (!record) {
          await endOperation(tx, op.id, "failed", refused.code);
          return true;
        }
      }
      if (kind === "refund") {
        const payment = await this.payments.lockById(tx, op.paymentId);
        if (payment && op.refundId && op.amount)
          await this.refunds.record(tx, payment, {
            refundId: op.refundId,
            amount: op.amount,
            reason: null,
            actor: "system:reconciler",
          });
      } else {
        // A void that compensates an orphan approval finds the payment not authorized here: nothing to record.
        await this.payments.recordSettled(
          tx,
          op.paymentId,
          kind === "capture" ? "capture" : "void",
          op.amount ?? (record as AuthorizationRecord).amountCaptured,
        );
      }
      await endOperation(tx, op.id, "done");
      return true;
    });
  }
}
