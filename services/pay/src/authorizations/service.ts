/**
 * Authorization at the card issuer (issue 4, deliverable 4): the last step of a device payment. The wallet has
 * been released its card for this payment, opened it, and sends the sign-then-encrypt JWE for the issuer; this
 * service adds what the issuer needs besides — the terms as requested, the card reference and the authentication
 * result (the pay server's signed PIN statement, or the passkey assertion) — and records the issuer's decision.
 *
 * validate → load (approval, terms, payment) → reserve (one authorization request per payment, ever) → call out →
 * persist (decision, ledger, events in one transaction). An answer that never comes leaves the reservation
 * `pending`; the reconciler settles it by inquiry, so a payment is never left unknown and never authorized
 * without the issuer's decision.
 */
import type { Clock } from "@mpay/service-kit";
import {
  JOSE_TYPES,
  mandateTermsSchema,
  termsTimeProblem,
  type AuthorizationAnswer,
  type AuthorizationRequest,
} from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import type { MerchantAuth } from "../merchants/service.ts";
import type { MandateService } from "../mandates/service.ts";
import type { SharedDetailsService } from "../shared-details/service.ts";
import type { Logger } from "pino";
import type { Db } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { ApprovalService } from "../approvals/service.ts";
import { termsHash } from "../approvals/terms-hash.ts";
import { IssuerError } from "../issuers/connector.ts";
import { toApiError } from "../issuers/service.ts";
import type { IssuerService } from "../issuers/service.ts";
import type { StatementSigner } from "../issuers/statement-signer.ts";
import type { PayerRow } from "../payers/service.ts";
import type { PaymentRow, PaymentService } from "../payments/service.ts";
import { checkJweHeader } from "../vault/jwe-header.ts";
import { faultPoint } from "../fault-points.ts";

/** An authorization request (or the void that compensates one) as the issuer-operations log keeps it. */
export interface IssuerOperation {
  id: string;
  paymentId: string;
  merchantId: string;
  issuerId: string;
  deadlineAt: Date | null;
}

/**
 * The issuer-operations log, where every request whose answer may be lost is recorded before it is sent
 * (issuer-operations/operations.ts keeps it and its reconciler calls `settle` back; system.ts hands it in).
 */
export interface IssuerOperationLog {
  /** Null when the payment already has an operation pending (or, for `authorize`, any). */
  open(
    db: Executor,
    op: {
      paymentId: string;
      merchantId: string;
      issuerId: string;
      kind: "authorize" | "void";
      amount?: number;
      deadlineAt?: Date | null;
    },
  ): Promise<IssuerOperation | null>;
  /** False when another process (the reconciler) ended it first. */
  end(db: Executor, id: string, status: "done" | "failed", lastError?: string | null): Promise<boolean>;
  postpone(db: Executor, id: string, lastError: string): Promise<void>;
}

/**
 * Another context's step when the issuer approves a device payment (receipts/ announces it to the payer): it runs in
 * the decision's transaction and may answer what to do once that transaction committed (send the message).
 */
export type ApprovedPaymentStep = (
  tx: Executor,
  payment: PaymentRow,
  approval: ApprovalFacts | null,
) => Promise<(() => void) | null>;

/**
 * What the authorization already loaded about the payer's approval, handed to the steps so that they need not read
 * it again (null when the reconciler settles a payment, which has not loaded it). `merchantName` is the registered
 * name the payer saw and signed in the terms.
 */
export interface ApprovalFacts {
  payerId: string;
  /** The payer's messenger account (from the payer's session), where the receipt goes. */
  messengerSubject: string;
  cardId: string | null;
  merchantName: string;
}

export class AuthorizationService {
  readonly #approvedSteps: ApprovedPaymentStep[] = [];

  constructor(
    private readonly db: Db,
    private readonly payments: PaymentService,
    private readonly approvals: ApprovalService,
    private readonly issuers: IssuerService,
    private readonly operations: IssuerOperationLog,
    private readonly signer: StatementSigner,
    private readonly mandates: MandateService,
    private readonly sharedDetails: SharedDetailsService,
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  /** This method needs to be idempotent toward the issuer: it sends at most one authorization per payment. */
  /** Wired in by system.ts: a higher context that must act on every approved device payment. */
  onApproved(step: ApprovedPaymentStep): void {
    this.#approvedSteps.push(step);
  }

  async authorize(
    payer: PayerRow,
    approvalId: string,
    input: { payment: string; mandate?: string | undefined; sharedDetails?: unknown },
  ): Promise<PaymentRow> {
    checkJweHeader(input.payment, JOSE_TYPES.paymentEnvelope, "payment");
    if (input.mandate !== undefined) checkJweHeader(input.mandate, JOSE_TYPES.mandateEnvelope, "mandate");
    const { approval, challenge, terms, deviceKid } = await this.approvals.forAuthorization(payer, approvalId);
    if (input.mandate !== undefined && !challenge.mandateTerms)
      throw new ApiError("parameter_unknown", "This payment asked for no mandate.", "mandate");
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    if (termsTimeProblem(terms, nowSeconds) !== null)
      throw new ApiError(
        "approval_challenge_expired",
        "The approved terms expired before they reached the card issuer; start the payment again.",
      );
    const payment = await this.payments.forApproval(approval.paymentId);
    const shared = input.sharedDetails === undefined ? null : this.sharedDetails.check(payment, input.sharedDetails);
    const authentication: AuthorizationRequest extends infer R
      ? R extends { authentication: infer A }
        ? A
        : never
      : never =
      approval.method === "pin"
        ? {
            method: "pin",
            statement: await this.signer.signPinStatement({
              aud: terms.aud,
              paymentId: payment.id,
              challengeId: challenge.id,
              termsHash: termsHash(challenge.terms),
              deviceKid,
              iat: nowSeconds,
              exp: terms.exp,
            }),
          }
        : { method: "passkey", assertion: (approval.passkeyAssertion ?? {}) as Record<string, unknown> };
    this.issuers.assertAvailable(terms.aud); // breaker open: 503 with nothing recorded, so the payer can try again
    const op = await this.operations.open(this.db, {
      paymentId: payment.id,
      merchantId: payment.merchantId,
      issuerId: terms.aud,
      kind: "authorize",
      amount: payment.amount,
      deadlineAt: new Date(terms.exp * 1000),
    });
    if (!op) throw new ApiError("payment_invalid_state", "This payment was already sent to the card issuer.");
    const request: AuthorizationRequest = {
      paymentId: payment.id,
      merchantId: terms.merchantId,
      merchantName: terms.merchantName,
      amount: terms.amount,
      currency: terms.currency,
      captureMethod: terms.captureMethod,
      cardRef: terms.cardRef,
      payment: input.payment,
      authentication,
    };
    let answer: AuthorizationAnswer;
    try {
      faultPoint("authorization.before-issuer");
      answer = await this.issuers.authorize(terms.aud, request);
    } catch (error) {
      return this.#afterFailedRequest(op, challenge.cardId, error);
    }
    faultPoint("authorization.after-issuer");
    const decided = await this.#apply(
      op,
      challenge.cardId,
      answer,
      {
        payerId: payer.id,
        messengerSubject: payer.messengerSubject,
        cardId: challenge.cardId,
        merchantName: terms.merchantName,
      },
      payment,
    );
    faultPoint("authorization.after-commit");
    // The details the payer shared go to the merchant only with a payment that went through.
    if (shared && decided.status !== "declined")
      await this.payments.attachSharedDetails(this.db, decided.id, await this.sharedDetails.seal(decided.id, shared));
    // The card-on-file mandate the payer consented to with this payment, once the payment itself went through.
    if (decided.status !== "declined" && input.mandate !== undefined && challenge.mandateTerms && challenge.cardId) {
      const mandate = await this.mandates.createFromApproval({
        mandateJwe: input.mandate,
        terms: mandateTermsSchema.parse(JSON.parse(challenge.mandateTerms)),
        payerId: payer.id,
        cardId: challenge.cardId,
        paymentId: decided.id,
        mode: decided.mode,
      });
      if (mandate) return (await this.payments.byId(this.db, decided.id)) ?? decided;
    }
    return decided;
  }

  /**
   * An off-session charge of a card-on-file mandate, in the merchant request's transaction: the issuer decides it
   * with the mandate's token (its cap, expiry, revocation and merchant are the issuer's to check). A lost answer
   * leaves the payment `requires_approval` with its authorization in doubt for the reconciler (its stored answer
   * says so; the webhook tells the outcome); it is never charged twice.
   */
  async chargeMandate(tx: Executor, auth: MerchantAuth, payment: PaymentRow, mandateId: string): Promise<PaymentRow> {
    const { mandate, token } = await this.mandates.forCharge(tx, auth, mandateId);
    if (mandate.currency !== payment.currency)
      throw new ApiError("parameter_invalid", `This mandate is in ${mandate.currency}.`, "currency");
    const op = await this.operations.open(tx, {
      paymentId: payment.id,
      merchantId: payment.merchantId,
      issuerId: mandate.issuerId,
      kind: "authorize",
      amount: payment.amount,
      deadlineAt: payment.approvalExpiresAt,
    });
    if (!op) throw new ApiError("payment_invalid_state", "This payment was already sent to the card issuer.");
    let answer: AuthorizationAnswer;
    try {
      answer = await this.issuers.authorize(mandate.issuerId, {
        paymentId: payment.id,
        merchantId: auth.merchantId,
        merchantName: auth.merchant.displayName,
        amount: payment.amount,
        currency: payment.currency,
        captureMethod: payment.captureMethod as AuthorizationRequest["captureMethod"],
        recurringToken: token,
      });
    } catch (error) {
      if (error instanceof IssuerError && error.kind === "unavailable") return payment; // in doubt: the reconciler settles it
      if (error instanceof IssuerError && error.kind === "not_sent") throw toApiError(error); // never sent: rolled back
      answer = {
        paymentId: payment.id,
        decision: "declined",
        declineCode: "do_not_honor",
        decidedAt: this.clock.now().toISOString(),
      };
    }
    await this.operations.end(tx, op.id, "done");
    const viaIssuer = { cardId: mandate.cardId };
    return answer.decision === "approved"
      ? this.payments.recordIssuerDecision(tx, payment.id, {
          approved: true,
          issuerId: mandate.issuerId,
          authorizationCode: answer.authorizationCode,
          viaIssuer,
        })
      : this.payments.recordIssuerDecision(tx, payment.id, {
          approved: false,
          issuerId: mandate.issuerId,
          declineCode: answer.declineCode,
          viaIssuer,
        });
  }

  /**
   * No usable answer: ask the issuer what it decided (it commits before it answers). Still nothing: the outcome is
   * the reconciler's to settle, and the payer is told so; the payment stays `requires_approval` meanwhile.
   */
  async #afterFailedRequest(op: IssuerOperation, cardId: string | null, error: unknown): Promise<PaymentRow> {
    if (error instanceof IssuerError && error.kind === "not_sent") {
      // The breaker opened after assertAvailable: nothing reached the issuer, so nothing is left in doubt.
      await this.operations.end(this.db, op.id, "failed", error.code);
      throw toApiError(error);
    }
    if (error instanceof IssuerError && error.kind === "refused") {
      // The issuer refused the request itself (it is malformed to it): no hold exists; the payment is declined.
      this.log.warn(
        { paymentId: op.paymentId, issuerId: op.issuerId, code: error.code },
        "issuer refused an authorization request",
      );
      return this.#apply(op, cardId, {
        paymentId: op.paymentId,
        decision: "declined",
        declineCode: "do_not_honor",
        decidedAt: this.clock.now().toISOString(),
      });
    }
    const settled = await this.settle(op).catch(() => null);
    if (settled) return settled;
    throw new ApiError(
      "issuer_unavailable",
      "The card issuer did not answer; the payment's outcome is being settled with it and will show on the payment.",
    );
  }

  /**
   * Records a decision once (the reconciler may race the request's own answer: one wins, the other reads). An
   * approval for a payment that can no longer take it (canceled or expired meanwhile) is compensated: the hold is
   * voided at the issuer, so no authorization stays there that the pay server does not hold. `known`: the payment as
   * this request read it before asking the issuer, so that the decision is written in one statement.
   */
  async #apply(
    op: IssuerOperation,
    cardId: string | null,
    answer: AuthorizationAnswer,
    facts: ApprovalFacts | null = null,
    known: PaymentRow | null = null,
  ): Promise<PaymentRow> {
    const outcome = await this.db.transaction(async (tx) => {
      // The operation's row decides the race with the reconciler: whoever ends it records the decision.
      if (!(await this.operations.end(tx, op.id, "done")))
        return { payment: await this.payments.byId(tx, op.paymentId), compensate: false, after: [] };
      const viaIssuer = { cardId };
      const approved = answer.decision === "approved";
      const decided = await this.payments.decideIfAwaiting(
        tx,
        op.paymentId,
        approved
          ? { approved, issuerId: op.issuerId, authorizationCode: answer.authorizationCode, viaIssuer }
          : { approved, issuerId: op.issuerId, declineCode: answer.declineCode, viaIssuer },
        known,
      );
      if (!decided) {
        // Canceled or expired meanwhile: an approval nobody here holds is voided at the issuer.
        const current = await this.payments.byId(tx, op.paymentId);
        if (!current) throw new ApiError("resource_missing", "No such payment.");
        return { payment: current, compensate: approved, after: [] };
      }
      const after: Array<() => void> = [];
      if (approved) {
        for (const step of this.#approvedSteps) {
          const then = await step(tx, decided, facts);
          if (then) after.push(then);
        }
      }
      return { payment: decided, compensate: false, after };
    });
    for (const then of outcome.after) then();
    if (outcome.compensate) await this.#voidOrphan(op);
    if (!outcome.payment) throw new ApiError("resource_missing", "No such payment.");
    return outcome.payment;
  }

  /** Voids an approval nobody here holds; a void the issuer does not acknowledge now is left to the reconciler. */
  async #voidOrphan(op: IssuerOperation): Promise<void> {
    this.log.warn(
      { paymentId: op.paymentId, issuerId: op.issuerId },
      "issuer approved a payment no longer awaiting approval; voiding the hold",
    );
    const voidOp = await this.operations.open(this.db, {
      paymentId: op.paymentId,
      merchantId: op.merchantId,
      issuerId: op.issuerId,
      kind: "void",
    });
    if (!voidOp) return; // another operation is in doubt for it: the reconciler comes back
    try {
      await this.issuers.void(op.issuerId, op.paymentId, { operationId: voidOp.id });
      await this.operations.end(this.db, voidOp.id, "done");
    } catch (error) {
      if (error instanceof IssuerError && error.kind === "refused")
        await this.operations.end(this.db, voidOp.id, "failed", error.code);
      // unavailable: the pending void is re-sent by the reconciler
    }
  }

  /**
   * The reconciler's step for one authorization in doubt: the issuer's books decide. Found → recorded as the
   * issuer decided. Not found and the terms expired (the issuer can no longer accept them) → declined here with
   * `issuer_unavailable`, so the payment is not left waiting. Otherwise retried later. Returns the payment when
   * settled, null when still in doubt.
   */
  async settle(op: IssuerOperation): Promise<PaymentRow | null> {
    let record;
    try {
      record = await this.issuers.inquire(op.issuerId, op.paymentId);
    } catch (error) {
      await this.operations.postpone(this.db, op.id, error instanceof IssuerError ? error.code : "inquiry failed");
      return null;
    }
    faultPoint("reconciler.after-issuer");
    if (record) return this.#apply(op, await this.#cardOf(op), record.decision);
    const graceMs = 30_000;
    if (op.deadlineAt && op.deadlineAt.getTime() + graceMs < this.clock.now().getTime()) {
      return this.#apply(op, await this.#cardOf(op), {
        paymentId: op.paymentId,
        decision: "declined",
        declineCode: "issuer_unavailable",
        decidedAt: this.clock.now().toISOString(),
      });
    }
    await this.operations.postpone(this.db, op.id, "not yet known to the issuer");
    return null;
  }

  async #cardOf(op: IssuerOperation): Promise<string | null> {
    return this.approvals.cardOfPayment(op.paymentId);
  }
}
