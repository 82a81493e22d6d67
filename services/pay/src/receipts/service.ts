/**
 * The payer's view of payments (issue 9): one payment as the wallet's pay sheet shows it, and the payer's receipts
 * (the payments they approved, with the card's last four, the issuer's name and the refunds).
 *
 * Who sees what: a payment is the payer's once they approved it (approvals/ records who). Before anyone has, any
 * signed-in payer holding its id sees what the hosted checkout shows anyone holding it (the id is the capability);
 * once someone has, only they see it — to anyone else it is not found, as if it did not exist. The card and the
 * decline code are only ever shown to the payer who approved.
 *
 * The receipt in the chat: when the issuer approves a payment the payer approved, and when the merchant refunds
 * one, MPay's official account tells the payer (merchant, amount, the card's brand and last four), written in the
 * decision's or the refund's transaction (authorizations and refunds call back, wired in system.ts).
 */
import type { PayerPaymentView, PayerReceipt, PaymentCard, PaymentStatus } from "@mpay/protocol";
import type { Db, Executor } from "../db/client.ts";
import type { PaymentReceipt } from "../announcements/kinds.ts";
import type { AnnouncementService } from "../announcements/service.ts";
import { ApiError } from "../http/errors.ts";
import type { ApprovalService } from "../approvals/service.ts";
import type { ApprovalFacts } from "../authorizations/service.ts";
import { pairingCode } from "../checkout/pairing-code.ts";
import type { IssuerService } from "../issuers/service.ts";
import type { MerchantService } from "../merchants/service.ts";
import type { PayerRow } from "../payers/service.ts";
import type { PaymentRow, PaymentService } from "../payments/service.ts";
import type { RefundRow, RefundService } from "../refunds/service.ts";
import type { VaultService } from "../vault/service.ts";

export class ReceiptService {
  constructor(
    private readonly db: Db,
    private readonly payments: PaymentService,
    private readonly approvals: ApprovalService,
    private readonly refunds: RefundService,
    private readonly vault: VaultService,
    private readonly merchants: MerchantService,
    private readonly issuers: IssuerService,
    private readonly announcements: AnnouncementService,
  ) {}

  /**
   * The issuer approved a payment a payer approved: the receipt goes to their MPay chat. Answers the send to run
   * once the decision's transaction has committed (the outbox retries it if that send fails).
   */
  async announcePaid(
    tx: Executor,
    payment: PaymentRow,
    known: ApprovalFacts | null = null,
  ): Promise<(() => void) | null> {
    const facts = await this.#receiptFacts(tx, payment, known);
    if (!facts) return null;
    // Claimed for its first attempt as it is written: the send after commit is then one UPDATE (delivered or not).
    const announced = await this.announcements.announceToSend(
      tx,
      facts.payerId,
      {
        kind: "payment_receipt",
        paymentId: payment.id,
        merchantName: facts.merchantName,
        itemName: payment.itemName,
        amount: payment.amount,
        currency: payment.currency,
        brand: facts.brand,
        last4: facts.last4,
      },
      known?.messengerSubject,
    );
    return () => this.announcements.sendSoon(announced);
  }

  /** The merchant refunded (part of) a payment a payer approved: the payer is told in their MPay chat. */
  async announceRefund(tx: Executor, payment: PaymentRow, refund: RefundRow): Promise<void> {
    const facts = await this.#receiptFacts(tx, payment);
    if (!facts) return;
    await this.announcements.announce(tx, facts.payerId, {
      kind: "payment_refunded",
      paymentId: payment.id,
      merchantName: facts.merchantName,
      amount: refund.amount,
      currency: refund.currency,
      brand: facts.brand,
      last4: facts.last4,
    });
  }

  /** Who approved the payment and with which card; null for a payment no payer approved (a mandate's charge). */
  /** `known`: what the authorization already loaded (the approval and the terms' merchant name), not read again. */
  async #receiptFacts(tx: Executor, payment: PaymentRow, known: ApprovalFacts | null = null) {
    // Every read through the decision's transaction: the embedded database has one connection, which it holds.
    const approval = known ?? (await this.approvals.approvalOf(payment.id, tx));
    const cardId = payment.cardId ?? approval?.cardId;
    if (!approval || !cardId) return null;
    const card = await this.vault.enrolledCard(tx, approval.payerId, cardId);
    if (!card) return null;
    return {
      payerId: approval.payerId,
      merchantName: known?.merchantName ?? (await this.merchants.get(payment.merchantId, tx))?.displayName ?? "",
      brand: card.brand as PaymentReceipt["brand"],
      last4: card.last4,
    };
  }

  async payment(payer: PayerRow, paymentId: string): Promise<PayerPaymentView> {
    const payment = /^pay_[0-9A-Z]{26}$/.test(paymentId) ? await this.payments.byId(this.db, paymentId) : null;
    if (!payment) throw notFound();
    const approval = await this.approvals.approvalOf(payment.id);
    if (approval && approval.payerId !== payer.id) throw notFound();
    const mine = approval !== null;
    const cards = mine ? await this.#cards(payer) : new Map<string, PaymentCard>();
    return {
      object: "payment_request",
      id: payment.id,
      status: payment.status as PaymentStatus,
      merchant: { name: await this.#merchantName(payment.merchantId) },
      itemName: payment.itemName,
      amount: payment.amount,
      currency: payment.currency,
      expiresAt: payment.approvalExpiresAt.toISOString(),
      pairingCode: pairingCode(payment.id),
      declineCode: mine ? payment.declineCode : null,
      card: mine ? (cards.get(payment.cardId ?? approval.cardId ?? "") ?? null) : null,
    };
  }

  /** The payer's receipts, newest first, a page at a time (`startingAfter`: the last id of the page before). */
  async list(
    payer: PayerRow,
    page: { limit: number; startingAfter?: string | undefined },
  ): Promise<{ data: PayerReceipt[]; hasMore: boolean }> {
    const approved = await this.approvals.approvedBy(payer.id, { ...page, limit: page.limit + 1 });
    const onPage = approved.slice(0, page.limit);
    const ids = onPage.map((a) => a.paymentId);
    const [rows, refunds, cards] = await Promise.all([
      this.payments.byIds(ids),
      this.refunds.ofPayments(ids),
      this.#cards(payer),
    ]);
    const byId = new Map(rows.map((row) => [row.id, row]));
    const names = new Map<string, string>();
    for (const merchantId of new Set(rows.map((row) => row.merchantId)))
      names.set(merchantId, await this.#merchantName(merchantId));
    const data: PayerReceipt[] = [];
    for (const { paymentId, cardId } of onPage) {
      const payment = byId.get(paymentId);
      if (!payment) continue;
      data.push({
        id: payment.id,
        status: payment.status as PaymentStatus,
        merchant: { name: names.get(payment.merchantId) ?? "" },
        itemName: payment.itemName,
        amount: payment.amount,
        currency: payment.currency,
        createdAt: payment.createdAt.toISOString(),
        card: cards.get(payment.cardId ?? cardId ?? "") ?? null,
        refundedAmount: payment.amountRefunded,
        refunds: refunds
          .filter((refund) => refund.paymentId === payment.id)
          .map((refund) => ({
            id: refund.id,
            amount: refund.amount,
            status: refund.status,
            createdAt: refund.createdAt.toISOString(),
          })),
      });
    }
    return { data, hasMore: approved.length > page.limit };
  }

  /**
   * The payer's cards, removed ones included, as receipts name them. The pay server knows each card's last four
   * (the issuer said so at enrollment) and its issuer; the issuer's name comes from the issuers' listing, and when
   * the issuers cannot be reached the issuer's id stands in for it rather than failing the receipts.
   */
  async #cards(payer: PayerRow): Promise<Map<string, PaymentCard>> {
    const cards = await this.vault.everEnrolled(payer);
    if (cards.length === 0) return new Map();
    const issuerNames = new Map(
      (await this.issuers.list().catch(() => [])).map((issuer) => [issuer.issuerId, issuer.name]),
    );
    return new Map(
      cards.map((card) => [
        card.id,
        { id: card.id, last4: card.last4, issuerName: issuerNames.get(card.issuerId) ?? card.issuerId },
      ]),
    );
  }

  async #merchantName(merchantId: string): Promise<string> {
    const merchant = await this.merchants.get(merchantId);
    if (!merchant) throw notFound();
    return merchant.displayName;
  }
}

function notFound(): ApiError {
  return new ApiError("payment_not_found", "No such payment.", "id");
}
