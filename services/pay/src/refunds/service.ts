/**
 * Refunds: partial, several per payment, their sum never above the captured amount. The payment row is locked
 * for the whole transaction, so concurrent refunds of one payment are decided one after another on fresh totals.
 */
import { newId, type Mode } from "@mpay/protocol";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { AuditService } from "../audit/service.ts";
import { refundPosting } from "../ledger/accounts.ts";
import type { LedgerService } from "../ledger/service.ts";
import type { MerchantAuth } from "../merchants/service.ts";
import type { IssuerOperations, PaymentRow, PaymentService } from "../payments/service.ts";
import { requireAmount, requireCurrency, requirePlainText } from "../payments/rules.ts";
import { emitEvent } from "../webhooks/events.ts";
import { findRefund, insertRefund, refundsOfPayment, refundsOfPayments, type RefundRow } from "./store.ts";
import { refundView } from "./view.ts";

export type { RefundRow };

/**
 * Another context's step for every refund recorded (receipts/ tells the payer), in the refund's transaction. The
 * transaction is the caller's (the merchant's request, the reconciler), so what it writes for later (an
 * announcement) is sent by its own worker after the commit.
 */
export type RefundedStep = (tx: Executor, payment: PaymentRow, refund: RefundRow) => Promise<void>;

export class RefundService {
  #issuer: IssuerOperations | null = null;
  readonly #refundedSteps: RefundedStep[] = [];

  constructor(
    private readonly db: Db,
    private readonly payments: PaymentService,
    private readonly ledger: LedgerService,
    private readonly audit: AuditService,
  ) {}

  async create(
    tx: Executor,
    auth: MerchantAuth,
    paymentId: string,
    input: { amount?: unknown; reason?: string },
  ): Promise<RefundRow> {
    const payment = await this.payments.lockForRefund(tx, auth, paymentId);
    const currency = requireCurrency(payment.currency);
    const refundable = payment.amountCaptured - payment.amountRefunded;
    const amount = input.amount === undefined ? refundable : requireAmount(input.amount, currency);
    if (amount <= 0 || amount > refundable) {
      throw new ApiError(
        "refund_exceeds_captured",
        `Cannot refund ${amount}: ${refundable} of the captured ${payment.amountCaptured} is left to refund.`,
        "amount",
      );
    }
    const reason = input.reason === undefined ? null : requirePlainText(input.reason, "reason", 200);
    const refundId = newId("refund");
    if (payment.reachesIssuer) await this.#issuerOperations().run(tx, payment, "refund", amount, refundId);
    return this.record(tx, payment, { refundId, amount, reason, actor: auth.actor });
  }

  /**
   * Records a refund the issuer has made (or that needs no issuer), on the locked payment: the refund row, the
   * payment's total, the ledger, the event and the audit entry. The reconciler calls it for a refund that was in
   * doubt and that the issuer confirmed.
   */
  async record(
    tx: Executor,
    payment: PaymentRow,
    input: { refundId: string; amount: number; reason: string | null; actor: string },
  ): Promise<RefundRow> {
    const { amount, reason } = input;
    const currency = requireCurrency(payment.currency);
    const refund = await insertRefund(tx, {
      id: input.refundId,
      paymentId: payment.id,
      merchantId: payment.merchantId,
      mode: payment.mode as Mode,
      amount,
      currency,
      reason,
      status: "succeeded",
    });
    const updated = await this.payments.recordRefund(tx, payment, amount);
    await this.ledger.post(
      tx,
      refundPosting(
        { id: payment.id, merchantId: payment.merchantId, mode: payment.mode, currency },
        refund.id,
        amount,
      ),
    );
    await emitEvent(tx, {
      merchantId: payment.merchantId,
      mode: payment.mode,
      type: "refund.succeeded",
      data: {
        refund: refundView(refund),
        amountRefunded: updated.amountRefunded,
        amountRefundable: updated.amountCaptured - updated.amountRefunded,
        payment: this.payments.view(updated),
      },
    });
    await this.audit.append(tx, {
      actor: input.actor,
      action: "refund.created",
      target: refund.id,
      data: { paymentId: payment.id, amount, currency, mode: payment.mode },
    });
    for (const step of this.#refundedSteps) await step(tx, updated, refund);
    return refund;
  }

  /** Wired in by system.ts: a higher context that must act on every refund. */
  onRefunded(step: RefundedStep): void {
    this.#refundedSteps.push(step);
  }

  /** The issuer link is wired in after this context. */
  useIssuerOperations(operations: IssuerOperations): void {
    this.#issuer = operations;
  }

  #issuerOperations(): IssuerOperations {
    if (!this.#issuer) throw new Error("the issuer link is not wired in");
    return this.#issuer;
  }

  async retrieve(auth: MerchantAuth, id: string): Promise<RefundRow> {
    const row = await findRefund(this.db, auth.merchantId, auth.mode, id);
    if (!row) throw new ApiError("resource_missing", `No such refund: ${id.slice(0, 40)}.`, "id");
    return row;
  }

  /** The refunds of several payments, newest first (the payer's receipts; the caller has checked whose they are). */
  ofPayments(paymentIds: readonly string[]): Promise<RefundRow[]> {
    return refundsOfPayments(this.db, paymentIds);
  }

  async listForPayment(auth: MerchantAuth, paymentId: string): Promise<RefundRow[]> {
    await this.payments.retrieve(auth, paymentId);
    return refundsOfPayment(this.db, auth.merchantId, paymentId);
  }
}
