/**
 * Payment operations. Each runs one pipeline inside the caller's database transaction:
 * validate → load (locked) → decide (state machine) → persist (row, ledger posting, event + outbox).
 * Merchant-facing operations take the authenticated merchant; `recordIssuerDecision` is the only way out of
 * `requires_approval` and is reachable from the payer's approval flow only, never from a merchant route.
 */
import type { Clock } from "@mpay/service-kit";
import {
  newId,
  type AuthorizationRecord,
  type CaptureMethod,
  type PaymentStatus,
  type ShareableDetail,
} from "@mpay/protocol";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import { authorizationPosting, capturePosting, releasePosting } from "../ledger/accounts.ts";
import type { LedgerService } from "../ledger/service.ts";
import type { AuditService } from "../audit/service.ts";
import type { MerchantAuth } from "../merchants/service.ts";
import { emitEvent, eventValues } from "../webhooks/events.ts";
import { answerValues, reserveKeyAlone, storeKeyAnswer, type KeyScope } from "../http/idempotency.ts";
import { nextStatus } from "./state-machine.ts";
import {
  approveAwaiting,
  approveAwaitingRecorded,
  attachToPayment,
  captureAuthorized,
  declineAwaiting,
  recordAuthorized,
  insertNewPayment,
  newPaymentRow,
  recordCaptured,
  findExpired,
  findPayment,
  findPaymentById,
  findPaymentsByIds,
  insertPayment,
  listPayments,
  lockPayment,
  updatePayment,
  type ListFilter,
  type PaymentRow,
} from "./store.ts";
import { requireAmount, requireCurrency, requirePlainText, requireRegisteredUrl } from "./rules.ts";
import { requireMandateRequest, type MandateRequestInput } from "./mandate-request.ts";
import { paymentView, type PaymentView } from "./view.ts";
import { OutcomePending } from "../http/errors.ts";
import { faultPoint } from "../fault-points.ts";

/** What a merchant request answers: the status and the JSON text (stored verbatim under its Idempotency-Key). */
type Answer = { statusCode: number; body: string };

/** The row other contexts see; they import it from here, never from the store. */
export type { PaymentRow } from "./store.ts";

/**
 * Captures, voids and refunds at the issuer that holds a payment, each recorded so that a lost answer is settled
 * later. issuer-operations/ implements it and drives this context from its reconciler, so system.ts wires it in.
 */
export interface IssuerOperations {
  /** Runs one operation for a locked payment; throws OutcomePending when its outcome is in doubt. */
  run(
    tx: Executor,
    payment: { id: string; merchantId: string; issuerId: string | null },
    kind: "capture" | "void" | "refund",
    amount?: number,
    refundId?: string,
  ): Promise<AuthorizationRecord>;
  /** True while an operation on the payment waits for the reconciler. */
  inDoubt(tx: Executor, paymentId: string): Promise<boolean>;
  /** The issuer's record of a capture of this authorized payment it holds and the pay server lost; null otherwise. */
  lostCapture(payment: PaymentRow): Promise<AuthorizationRecord | null>;
}

export interface PaymentSettings {
  checkoutBaseUrl: string;
  approvalTtlSeconds: number;
  authorizationTtlSeconds: number;
  /** Approval windows, authorization expiry and expiry sweeps read it (drills move it). */
  clock: Clock;
}

export interface CreatePaymentInput {
  amount: unknown;
  currency: string;
  orderId: string;
  itemName: string;
  /** Where the payer returns; not used (and optional) for an off-session charge of a mandate. */
  returnUrl?: string | undefined;
  cancelUrl?: string | undefined;
  captureMethod?: CaptureMethod | undefined;
  /** Ask the payer for a card-on-file mandate with this payment, on this schedule. */
  setupFutureUsage?: MandateRequestInput | undefined;
  /** Charge this card-on-file mandate off-session (no payer present). */
  mandate?: string | undefined;
  /** Personal details to ask the payer to share for this payment. */
  collect?: ShareableDetail[] | undefined;
}

/**
 * An issuer's answer. `viaIssuer` is set when the answer came through an issuer connector: the issuer then holds
 * the authorization, and captures, voids and refunds reach it first. Without it (decisions recorded with no card
 * network, as tests and the api benchmark's setup do) they are recorded here only.
 */
export type IssuerDecision = (
  | { approved: true; issuerId: string; authorizationCode: string }
  | { approved: false; issuerId: string; declineCode: string }
) & {
  viaIssuer?: { cardId: string | null };
};

export class PaymentService {
  #issuer: IssuerOperations | null = null;

  constructor(
    private readonly db: Db,
    private readonly ledger: LedgerService,
    private readonly settings: PaymentSettings,
    private readonly audit: AuditService,
  ) {}

  /** The issuer link is wired in after this context (it depends on the issuers' service). */
  useIssuerOperations(operations: IssuerOperations): void {
    this.#issuer = operations;
  }

  view(row: PaymentRow): PaymentView {
    return paymentView(row, this.settings.checkoutBaseUrl);
  }

  async create(tx: Executor, auth: MerchantAuth, input: CreatePaymentInput): Promise<PaymentRow> {
    return insertPayment(tx, this.newPayment(auth, input));
  }

  /**
   * Creates a payment in one autocommit statement with its Idempotency-Key and the answer the key keeps (the row,
   * ids and timestamps included, is made here, so its view is known before the statement). Null when the key was
   * taken: nothing was written. Not for a mandate charge, whose issuer call needs the payment's transaction.
   */
  async createOnce(
    db: Executor,
    auth: MerchantAuth,
    input: CreatePaymentInput,
    scope: KeyScope,
  ): Promise<Answer | null> {
    const row = this.newPayment(auth, input);
    const answer = { statusCode: 200, body: JSON.stringify(this.view(row)) };
    const inserted = await insertNewPayment(db, row, scope, answer);
    faultPoint("payment.create.after-commit"); // one autocommit statement: committed, not answered
    return inserted ? answer : null;
  }

  /** Checks the input and makes the new payment's whole row; writes nothing. */
  private newPayment(auth: MerchantAuth, input: CreatePaymentInput): PaymentRow {
    const currency = requireCurrency(input.currency);
    const amount = requireAmount(input.amount, currency);
    const orderId = requirePlainText(input.orderId, "orderId", 64);
    const itemName = requirePlainText(input.itemName, "itemName", 200);
    const origins = auth.merchant.allowedOrigins;
    const offSession = input.mandate !== undefined;
    if (offSession && input.setupFutureUsage !== undefined)
      throw new ApiError("parameter_invalid", "A mandate charge cannot ask for another mandate.", "setupFutureUsage");
    if (offSession && input.collect !== undefined)
      throw new ApiError("parameter_invalid", "No payer is present to share details in a mandate charge.", "collect");
    const url = (value: string | undefined, param: "returnUrl" | "cancelUrl") => {
      if (value === undefined) {
        if (offSession) return "";
        throw new ApiError("parameter_missing", `Missing required parameter: ${param}.`, param);
      }
      return requireRegisteredUrl(value, param, origins, auth.mode);
    };
    const returnUrl = url(input.returnUrl, "returnUrl");
    const cancelUrl = url(input.cancelUrl, "cancelUrl");
    const now = this.settings.clock.now().getTime();
    const setupFutureUsage =
      input.setupFutureUsage === undefined ? null : requireMandateRequest(input.setupFutureUsage, currency, now);
    return newPaymentRow({
      id: newId("payment", now),
      merchantId: auth.merchantId,
      mode: auth.mode,
      status: "requires_approval",
      amount,
      currency,
      captureMethod: input.captureMethod ?? "automatic",
      orderId,
      itemName,
      returnUrl,
      cancelUrl,
      setupFutureUsage,
      mandateId: input.mandate ?? null,
      collect: input.collect && input.collect.length > 0 ? [...new Set(input.collect)] : null,
      approvalExpiresAt: new Date(now + this.settings.approvalTtlSeconds * 1000),
      createdAt: new Date(now),
    });
  }

  /** Any payment by id, locked for the rest of the transaction (the reconciler's). */
  lockById(tx: Executor, id: string): Promise<PaymentRow | null> {
    return lockPayment(tx, id);
  }

  /** Any payment by id (for the system's own flows: authorization, reconciliation). */
  byId(db: Executor, id: string): Promise<PaymentRow | null> {
    return findPaymentById(db, id);
  }

  /** Several payments by id (the payer's receipts, whose ids the approvals name), in no particular order. */
  byIds(ids: readonly string[]): Promise<PaymentRow[]> {
    return findPaymentsByIds(this.db, ids);
  }

  async retrieve(auth: MerchantAuth, id: string): Promise<PaymentRow> {
    const row = await findPayment(this.db, auth.merchantId, auth.mode, id);
    if (!row) throw notFound(id);
    return row;
  }

  list(auth: MerchantAuth, query: Omit<ListFilter, "merchantId" | "mode">) {
    return listPayments(this.db, { merchantId: auth.merchantId, mode: auth.mode, ...query });
  }

  /** Captures all or part of an authorized payment, once; the rest of the authorization is released. */
  async capture(tx: Executor, auth: MerchantAuth, id: string, requested?: unknown): Promise<PaymentRow> {
    const payment = await this.lockForMerchant(tx, auth, id);
    const status = nextStatus(payment.status as PaymentStatus, "capture");
    if (
      payment.authorizationExpiresAt &&
      payment.authorizationExpiresAt.getTime() <= this.settings.clock.now().getTime()
    ) {
      throw new ApiError("payment_invalid_state", "The authorization has expired; the payer must pay again.");
    }
    const amount =
      requested === undefined ? payment.amount : requireAmount(requested, requireCurrency(payment.currency));
    if (amount > payment.amount) {
      throw new ApiError(
        "capture_amount_invalid",
        `Cannot capture ${amount}: the payment authorized ${payment.amount}.`,
        "amount",
      );
    }
    if (payment.reachesIssuer) await this.#issuerOperations().run(tx, payment, "capture", amount);
    const captured = await this.applyCapture(tx, payment, status, amount);
    // Who moved the money (a key or a dashboard user), like a refund; a capture the reconciler completes later
    // (in doubt above) is audited by the reconciler as the system's.
    await this.audit.append(tx, {
      actor: auth.actor,
      action: "payment.captured",
      target: payment.id,
      data: { amount, currency: payment.currency, mode: payment.mode },
    });
    return captured;
  }

  /**
   * Captures under the request's Idempotency-Key (`scope`) in as few statements as the payment allows; the answer is
   * the payment's view, stored with the key. Null when the key was taken. The whole amount of a payment recorded
   * without an issuer takes the fast path: the key, a guarded UPDATE (merchant, mode, status, authorization not
   * expired) and, if it matched, one statement for the event, the ledger posting and the key's answer. Anything else
   * (a partial amount, a payment that reaches its issuer, a guard that did not hold: capture says why) goes through
   * `capture` in the same transaction.
   */
  async captureOnce(
    tx: Executor,
    auth: MerchantAuth,
    id: string,
    requested: unknown,
    scope: KeyScope,
  ): Promise<Answer | null> {
    if (requested === undefined) {
      const now = this.settings.clock.now();
      const target = { id, merchantId: auth.merchantId, mode: auth.mode, now };
      const { reserved, row } = await captureAuthorized(tx, target, scope);
      if (!reserved) return null;
      if (row) {
        const answer = { statusCode: 200, body: JSON.stringify(this.view(row)) };
        const event = eventValues({
          merchantId: row.merchantId,
          mode: row.mode,
          type: "payment.captured",
          data: { payment: this.view(row) },
        });
        await recordCaptured(tx, {
          ...event.values,
          ...this.ledger.postingFor(capturePosting(ref(row), row.amount, row.amountCaptured)),
          ...scope.values,
          ...answerValues(answer),
        });
        await this.audit.append(tx, {
          actor: auth.actor,
          action: "payment.captured",
          target: row.id,
          data: { amount: row.amountCaptured, currency: row.currency, mode: row.mode },
        });
        return answer;
      }
    } else if (!(await reserveKeyAlone(tx, scope))) {
      return null;
    }
    const answer = { statusCode: 200, body: JSON.stringify(this.view(await this.capture(tx, auth, id, requested))) };
    await storeKeyAnswer(tx, scope, answer);
    return answer;
  }

  /** Cancels a payment awaiting approval, or voids an authorization (releasing the hold). */
  async cancel(tx: Executor, auth: MerchantAuth, id: string): Promise<PaymentRow> {
    const payment = await this.lockForMerchant(tx, auth, id);
    const status = nextStatus(payment.status as PaymentStatus, "cancel");
    if (payment.status === "requires_approval" && this.#issuer && (await this.#issuer.inDoubt(tx, payment.id))) {
      // Sent to the issuer, answer not known yet: canceling now could leave an authorization there with none here.
      throw new ApiError(
        "payment_invalid_state",
        "This payment is being authorized by the card issuer; cancel it once it is authorized (or declined).",
      );
    }
    if (payment.status === "authorized" && payment.reachesIssuer)
      await this.#issuerOperations().run(tx, payment, "void");
    if (payment.status === "authorized") await this.ledger.post(tx, releasePosting(ref(payment), payment.amount));
    const updated = await updatePayment(tx, id, { status, canceledAt: this.settings.clock.now() });
    await emitEvent(tx, {
      merchantId: updated.merchantId,
      mode: updated.mode,
      type: "payment.canceled",
      data: { payment: this.view(updated) },
    });
    await this.audit.append(tx, {
      actor: auth.actor,
      action: payment.status === "authorized" ? "payment.voided" : "payment.canceled",
      target: payment.id,
      data: { amount: payment.amount, currency: payment.currency, mode: payment.mode },
    });
    return updated;
  }

  /**
   * Records the issuer's answer to the payer's approval. The only transition out of `requires_approval` to
   * `authorized` or `declined`; called by the approval flow with an issuer's decision, never by a merchant.
   * An automatic-capture payment is captured in the same transaction.
   */
  async recordIssuerDecision(tx: Executor, id: string, decision: IssuerDecision): Promise<PaymentRow> {
    const decided = await this.decideIfAwaiting(tx, id, decision);
    if (decided) return decided;
    // The guard did not hold: say why, as the state machine and the window do.
    const payment = await findPaymentById(tx, id);
    if (!payment) throw notFound(id);
    nextStatus(payment.status as PaymentStatus, decision.approved ? "approve" : "decline");
    throw new ApiError("payment_invalid_state", "The approval window of this payment has passed.");
  }

  /**
   * `recordIssuerDecision` for a caller that handles a payment no longer awaiting approval itself (authorizations/
   * compensates such an approval): null then, and nothing was written. The decision is one guarded UPDATE …
   * RETURNING and one statement for its event and ledger posting (issue 11: it was two locked reads, a built update
   * and two more statements), so a cancel or an expiry that committed first wins without a lock taken ahead.
   */
  async decideIfAwaiting(
    tx: Executor,
    id: string,
    decision: IssuerDecision,
    known: PaymentRow | null = null,
  ): Promise<PaymentRow | null> {
    const now = this.settings.clock.now();
    const cardId = decision.viaIssuer?.cardId ?? null;
    if (!decision.approved) {
      const declined = await declineAwaiting(tx, {
        id,
        issuerId: decision.issuerId,
        declineCode: decision.declineCode,
        cardId,
        now,
      });
      if (!declined) return null;
      await emitEvent(tx, {
        merchantId: declined.merchantId,
        mode: declined.mode,
        type: "payment.declined",
        data: { payment: this.view(declined) },
      });
      return declined;
    }
    const approval = {
      id,
      issuerId: decision.issuerId,
      authorizationCode: decision.authorizationCode,
      reachesIssuer: decision.viaIssuer !== undefined,
      cardId,
      // An issuer's answer may land late (the reconciler settles a lost one): the issuer checked the signed terms'
      // expiry, which never passes the approval window, so the window is not checked again for it.
      checkWindow: decision.viaIssuer === undefined,
      now,
      authorizationExpiresAt: new Date(now.getTime() + this.settings.authorizationTtlSeconds * 1000),
    };
    const authorized = known ? await this.#approveKnown(tx, known, approval) : await this.#approveUnknown(tx, approval);
    if (!authorized) return null;
    if (authorized.captureMethod !== "automatic") return authorized;
    if (authorized.reachesIssuer) {
      try {
        await this.#issuerOperations().run(tx, authorized, "capture", authorized.amount);
      } catch (error) {
        // The authorization stands; the capture in doubt is the reconciler's to finish (its row commits with this).
        if (error instanceof OutcomePending) return authorized;
        throw error;
      }
    }
    return this.applyCapture(tx, authorized, "captured", authorized.amount);
  }

  /** The approval, then its event and posting: two statements, the event's payload taken from the updated row. */
  async #approveUnknown(tx: Executor, approval: Parameters<typeof approveAwaiting>[1]): Promise<PaymentRow | null> {
    const authorized = await approveAwaiting(tx, approval);
    if (!authorized) return null;
    await recordAuthorized(tx, this.#authorizedRecords(authorized));
    return authorized;
  }

  /**
   * The approval with its event and posting in one statement (the authorize request's path): the payment read at
   * the request's start, with the approval's changes, is the row the guarded UPDATE makes, since nothing changes a
   * payment awaiting approval but its decision, a cancel or an expiry (each a change of status, which the guard
   * refuses). Checked on the row written: should a change of another kind ever be added, its event would be wrong,
   * so the decision fails (rolled back, its issuer operation left pending for the reconciler) instead.
   */
  async #approveKnown(
    tx: Executor,
    known: PaymentRow,
    approval: Parameters<typeof approveAwaiting>[1],
  ): Promise<PaymentRow | null> {
    const expected: PaymentRow = {
      ...known,
      status: nextStatus("requires_approval", "approve"),
      issuerId: approval.issuerId,
      issuerAuthorizationCode: approval.authorizationCode,
      reachesIssuer: approval.reachesIssuer,
      cardId: approval.cardId,
      authorizedAt: approval.now,
      authorizationExpiresAt: approval.authorizationExpiresAt,
    };
    const records = this.#authorizedRecords(expected);
    const authorized = await approveAwaitingRecorded(tx, approval, records);
    if (authorized && JSON.stringify(this.view(authorized)) !== JSON.stringify(this.view(expected)))
      throw new Error(`payment ${known.id} changed while awaiting approval: its authorized event would be wrong`);
    return authorized;
  }

  /** The placeholder values of the payment.authorized event and the hold's posting. */
  #authorizedRecords(authorized: PaymentRow): Record<string, unknown> {
    const event = eventValues({
      merchantId: authorized.merchantId,
      mode: authorized.mode,
      type: "payment.authorized",
      data: { payment: this.view(authorized) },
    });
    return { ...event.values, ...this.ledger.postingFor(authorizationPosting(ref(authorized), authorized.amount)) };
  }

  /**
   * Expires one payment whose window passed; re-checked under the row lock, so a racing capture wins cleanly. An
   * authorization whose capture the issuer holds and the pay server lost is recorded captured instead.
   */
  async expireOne(tx: Executor, id: string, now = this.settings.clock.now()): Promise<PaymentRow | null> {
    const payment = await lockPayment(tx, id);
    if (!payment) return null;
    const due =
      (payment.status === "requires_approval" && payment.approvalExpiresAt <= now) ||
      (payment.status === "authorized" &&
        payment.authorizationExpiresAt !== null &&
        payment.authorizationExpiresAt <= now);
    if (!due) return null;
    const status = nextStatus(payment.status as PaymentStatus, "expire");
    if (payment.status === "requires_approval" && this.#issuer && (await this.#issuer.inDoubt(tx, payment.id))) {
      return null; // sent to the issuer, answer unknown: the reconciler decides, not the clock
    }
    if (payment.status === "authorized" && payment.reachesIssuer) {
      try {
        await this.#issuerOperations().run(tx, payment, "void");
      } catch (error) {
        if (error instanceof OutcomePending) return null; // the void in doubt commits; the reconciler finishes it
        const lost = await this.#issuerOperations().lostCapture(payment);
        if (!lost) throw error;
        return this.#recordLostCapture(tx, payment, lost.amountCaptured);
      }
    }
    if (payment.status === "authorized") await this.ledger.post(tx, releasePosting(ref(payment), payment.amount));
    const updated = await updatePayment(tx, id, { status });
    await emitEvent(tx, {
      merchantId: updated.merchantId,
      mode: updated.mode,
      type: "payment.expired",
      data: { payment: this.view(updated) },
    });
    return updated;
  }

  /**
   * The issuer refused to release the hold because it holds a capture the pay server lost (a crash between the
   * issuer's commit and ours that no retry repaired): at the authorization's end at the latest, the books follow the
   * issuer's, which moved the payer's money. The merchant learns it by the payment.captured event.
   */
  async #recordLostCapture(tx: Executor, payment: PaymentRow, amount: number): Promise<PaymentRow> {
    const captured = await this.applyCapture(tx, payment, "captured", amount);
    await this.audit.append(tx, {
      actor: "system:expiry",
      action: "payment.captured",
      target: payment.id,
      data: { amount, currency: payment.currency, mode: payment.mode, from: "issuer_books" },
    });
    return captured;
  }

  /**
   * Expires every due payment, each in its own transaction; returns how many expired. One pass reads each due
   * payment once: one left as it was (an approval in doubt at the issuer) is passed over, not read again, and one
   * that fails (the issuer refuses its void) does not hold up the rest. The failures are thrown once the pass is over.
   */
  async expireDue(now = this.settings.clock.now(), batch = 100): Promise<number> {
    let expired = 0;
    const failures: unknown[] = [];
    for (const queue of ["approval", "authorization"] as const) {
      let after: string | null = null;
      for (;;) {
        const due = await findExpired(this.db, now, batch, queue, after);
        for (const id of due) {
          try {
            if (await this.db.transaction((tx) => this.expireOne(tx, id, now))) expired++;
          } catch (error) {
            failures.push(error);
          }
        }
        if (due.length < batch) break;
        after = due[due.length - 1] as string;
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1)
      throw new AggregateError(failures, `${failures.length} due payments could not expire (${expired} did)`);
    return expired;
  }

  /** For the payer's approval: the payment, which must still await approval within its window. */
  async forApproval(id: string): Promise<PaymentRow> {
    const payment = await findPaymentById(this.db, id);
    if (!payment) throw notFound(id);
    nextStatus(payment.status as PaymentStatus, "approve");
    if (payment.approvalExpiresAt.getTime() <= this.settings.clock.now().getTime())
      throw new ApiError("payment_invalid_state", "The approval window of this payment has passed.");
    return payment;
  }

  /**
   * The reconciler's part: records an operation the issuer has confirmed (a capture, void or refund that was in
   * doubt), on the locked payment, if it is not recorded yet. Returns the payment as it now stands.
   */
  async recordSettled(tx: Executor, id: string, kind: "capture" | "void", amount: number): Promise<PaymentRow | null> {
    const payment = await lockPayment(tx, id);
    if (!payment || payment.status !== "authorized") return payment;
    if (kind === "capture") return this.applyCapture(tx, payment, "captured", amount);
    // A void in doubt came from a merchant's cancel, or from the expiry of the authorization.
    const expired =
      payment.authorizationExpiresAt !== null &&
      payment.authorizationExpiresAt.getTime() <= this.settings.clock.now().getTime();
    await this.ledger.post(tx, releasePosting(ref(payment), payment.amount));
    const updated = await updatePayment(
      tx,
      id,
      expired
        ? { status: nextStatus("authorized", "expire") }
        : { status: nextStatus("authorized", "cancel"), canceledAt: this.settings.clock.now() },
    );
    await emitEvent(tx, {
      merchantId: updated.merchantId,
      mode: updated.mode,
      type: expired ? "payment.expired" : "payment.canceled",
      data: { payment: this.view(updated) },
    });
    return updated;
  }

  /** For refunds: the payment locked for the rest of the transaction, checked to be refundable. */
  async lockForRefund(tx: Executor, auth: MerchantAuth, id: string): Promise<PaymentRow> {
    const payment = await this.lockForMerchant(tx, auth, id);
    nextStatus(payment.status as PaymentStatus, "refund");
    return payment;
  }

  async recordRefund(tx: Executor, payment: PaymentRow, amount: number): Promise<PaymentRow> {
    return updatePayment(tx, payment.id, { amountRefunded: payment.amountRefunded + amount });
  }

  private async applyCapture(
    tx: Executor,
    payment: PaymentRow,
    status: PaymentStatus,
    amount: number,
  ): Promise<PaymentRow> {
    const updated = await updatePayment(tx, payment.id, {
      status,
      amountCaptured: amount,
      capturedAt: this.settings.clock.now(),
    });
    await emitEvent(tx, {
      merchantId: updated.merchantId,
      mode: updated.mode,
      type: "payment.captured",
      data: { payment: this.view(updated) },
    });
    // Last, because it locks the merchant's balance rows, which every capture of this merchant needs: the
    // shorter they are held before commit, the more captures run in parallel.
    await this.ledger.post(tx, capturePosting(ref(payment), payment.amount, amount));
    return updated;
  }

  /** Names the card-on-file mandate made with this payment, in the transaction that creates it (mandates/). */
  async attachMandate(tx: Executor, id: string, mandateId: string): Promise<void> {
    await attachToPayment(tx, id, { mandateId });
  }

  /** Keeps the details the payer shared with this payment, sealed by shared-details/ (which alone opens them). */
  async attachSharedDetails(db: Executor, id: string, sealedSharedDetails: string): Promise<void> {
    await attachToPayment(db, id, { sealedSharedDetails });
  }

  #issuerOperations(): IssuerOperations {
    if (!this.#issuer) throw new Error("the issuer link is not wired in");
    return this.#issuer;
  }

  private async lockForMerchant(tx: Executor, auth: MerchantAuth, id: string): Promise<PaymentRow> {
    const payment = await lockPayment(tx, id, auth);
    if (!payment) throw notFound(id);
    return payment;
  }
}

function ref(p: PaymentRow) {
  return { id: p.id, merchantId: p.merchantId, mode: p.mode, currency: p.currency };
}

function notFound(id: string): ApiError {
  return new ApiError("resource_missing", `No such payment: ${id.slice(0, 40)}.`, "id");
}
