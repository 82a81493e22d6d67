/**
 * Authorization: verify → decide → commit → answer. Everything that needs no lock runs first (opening the JWE,
 * the device signature, the terms, the authentication result, or the recurring token). A device payment then
 * writes its decision in one statement that claims the nonce, holds the amount with a guarded UPDATE (open-to-buy
 * is claimed atomically) and records the decision (store.ts `insertDeviceDecision`; issue 11: two round trips in
 * all, with the first read); a recurring charge runs one transaction under the card's row lock. The decision is
 * committed before the answer is sent: the pay server's reconciler inquires it after a crash or a lost answer.
 *
 * This method needs to be idempotent: a second request for the same payment id, or a replayed JWE (same device
 * key and nonce), gets the first decision and never a second hold. Declines are recorded like approvals, so an
 * inquiry always finds the one decision.
 *
 * Order of checks for a device payment (the first that fails gives the decline): card known (`card_not_found`) →
 * envelope and device signature (`bad_signature`) → signed terms equal the request (`terms_mismatch`) → time
 * window (`terms_expired`) → nonce not used for another payment (`do_not_honor`) → authentication result
 * (`authentication_failed`) → currency is the card's or one the issuer converts (`currency_not_supported`) → amount,
 * converted to the card's currency, within the method's limit (`authentication_failed`: PIN up to 2,000,000 KRW,
 * passkey up to 10,000,000 KRW per payment) → card status (`lost_or_stolen`, `expired_card`, `suspected_fraud`,
 * `do_not_honor` when closed) → open-to-buy, against the billed amount (`insufficient_funds`) → approved, with a
 * 6-character authorization code and a hold of the billed amount.
 *
 * Foreign currency (fx/): a purchase in another currency than the card's is billed in the card's, at the issuer's
 * reference rate plus its foreign-transaction fee; the authorization keeps both amounts and the rate and fee, and
 * its captures, voids and refunds are converted at those (operations/service.ts), never at a later rate.
 * For a recurring token: token known, this merchant's and currency, not revoked, with the payer's signed schedule
 * (`token_invalid`) → before its end date (`token_expired`) → amount within its cap per charge (`token_over_cap`)
 * → currency the issuer converts → card status → open-to-buy → the period's count and total claimed under the
 * schedule, in the payment's currency as the payer signed it
 * (`mandate_limit_exceeded`; recurring/charge-schedule.ts) → approved.
 */
import type {
  AuthenticationResult,
  AuthorizationAnswer,
  AuthorizationRecord,
  AuthorizationRequest,
  DeclineCode,
} from "@mpay/protocol";
import type { AuthenticationLimits } from "../config.ts";
import { billedAmount, type Billed, type FxDesk, type FxTerms } from "../fx/conversion.ts";
import { isUniqueViolation, type Executor } from "../db/client.ts";
import { IssuerApiError } from "../http/errors.ts";
import { newAuthorizationCode } from "../ids.ts";
import type { IssuerCore } from "../issuer-core.ts";
import { isExpired } from "../cards/card-facts.ts";
import { lockCard, moveOpenToBuy, type CardRow } from "../cards/store.ts";
import { PublicKeyCache } from "../keys/public-key-cache.ts";
import {
  claimScheduledCharge,
  releaseScheduledCharge,
  signedConsentOf,
  tokenToCharge,
  type ChargeSchedule,
  type ClaimedCharge,
} from "../recurring/charge-schedule.ts";
import type { PaymentAuthenticator } from "./authentication.ts";
import { openEnvelope, verifyPayment, type DevicePaymentRequest, type OpenedEnvelope } from "./open-payment.ts";
import { answerOf, recordOf } from "./records.ts";
import {
  authorizationOf,
  claimNonce,
  insertAuthorization,
  insertDeviceDecision,
  paymentFacts,
  type AuthorizationRow,
  type NewAuthorization,
  type PaymentFacts,
} from "./store.ts";

type Method = "pin" | "passkey" | "recurring_token";
export type UnauthenticatedRequest = Omit<Extract<AuthorizationRequest, { payment: string }>, "authentication"> & {
  authentication?: undefined;
};
type Verdict = { decline: DeclineCode; reason: string } | { approve: true };
/** The purchase in the card's currency: null terms when the issuer does not convert its currency. */
type Pricing = { billingCurrency: string; terms: FxTerms; billed: Billed } | { billingCurrency: string; terms: null };

interface Attempt {
  request: Omit<DevicePaymentRequest, "cardRef" | "payment">;
  kind: "device" | "recurring";
  cardRef: string | null;
  deviceKid?: string | undefined;
  method?: Method | undefined;
  recurringTokenId?: string | undefined;
  /** A recurring charge's schedule: its period's slot is claimed before the approval. */
  schedule?: ChargeSchedule | undefined;
  nonce?: { nonce: string; expiresAt: Date } | undefined;
  passkeyCounter?: { credentialId: string; signCount: number } | undefined;
  verdict: Verdict;
}

function decline(code: DeclineCode, reason: string): Verdict {
  return { decline: code, reason };
}

export class AuthorizationService {
  /** Device keys as KeyObjects, parsed once per key (which key counts is still the live binding's, per request). */
  private readonly deviceKeys = new PublicKeyCache();

  constructor(
    private readonly issuer: IssuerCore,
    private readonly authenticator: PaymentAuthenticator,
    private readonly limits: AuthenticationLimits,
    private readonly fx: FxDesk,
  ) {}

  /** `authentication` may be missing from a device payment: it is then declined `authentication_failed`. */
  async authorize(request: AuthorizationRequest | UnauthenticatedRequest): Promise<AuthorizationAnswer> {
    const { paymentId, merchantId, merchantName, amount, currency, captureMethod } = request;
    const terms = { paymentId, merchantId, merchantName, amount, currency, captureMethod };
    if ("recurringToken" in request) {
      const first = await authorizationOf(this.issuer.db, paymentId);
      if (first) return answerOf(first);
      return answerOf(await this.decide(await this.recurringAttempt(terms, request.recurringToken), null));
    }
    // The envelope is opened before the first read, so that the device key's binding comes in the same round
    // trip as the first decision and the card (a repeat request pays the decryption for nothing).
    const envelope = openEnvelope(this.issuer, request.payment);
    const facts = await paymentFacts(
      this.issuer.db,
      paymentId,
      request.cardRef,
      envelope.ok ? envelope.deviceKid : null,
    );
    if (facts.authorization) return answerOf(facts.authorization);
    const attempt = await this.deviceAttempt(terms, request, envelope, facts);
    return answerOf(await this.decide(attempt, facts.card));
  }

  async inquire(paymentId: string): Promise<AuthorizationRecord> {
    const row = await authorizationOf(this.issuer.db, paymentId);
    if (!row)
      throw new IssuerApiError(
        "authorization_not_found",
        "This issuer never received an authorization request for this payment.",
      );
    return recordOf(row);
  }

  /**
   * Spends a device's one-time nonce for `owner` (a payment id, or `mandate:<token id>`) inside `tx`: payments and
   * card-on-file mandates share one pool, so a signed nonce is used once whatever it signed. Returns the owner that
   * holds it (store.ts `claimNonce`). Host wiring hands this to the recurring context.
   */
  claimNonce(tx: Executor, deviceKid: string, nonce: string, owner: string, expiresAt: Date): Promise<string> {
    return claimNonce(tx, deviceKid, nonce, owner, expiresAt);
  }

  private async deviceAttempt(
    terms: Attempt["request"],
    request: DevicePaymentRequest & { authentication?: AuthenticationResult | undefined },
    envelope: OpenedEnvelope,
    facts: PaymentFacts,
  ): Promise<Attempt> {
    const { cardRef, authentication } = request;
    const base = { request: terms, kind: "device" as const, cardRef };
    const account = facts.card;
    if (!account) return { ...base, cardRef: null, verdict: decline("card_not_found", "no such card at this issuer") };
    const opened = verifyPayment(this.issuer, request, account, envelope, facts.binding, this.deviceKeys);
    if (!opened.ok) return { ...base, deviceKid: opened.deviceKid, verdict: decline(opened.decline, opened.reason) };
    const verified = {
      ...base,
      deviceKid: opened.deviceKid,
      nonce: { nonce: opened.terms.nonce, expiresAt: new Date(opened.terms.exp * 1000) },
    };
    if (!authentication)
      return {
        ...verified,
        verdict: decline("authentication_failed", "no authentication result came with the payment"),
      };
    const auth = await this.authenticator.check(authentication, {
      paymentId: request.paymentId,
      cardRef,
      deviceKid: opened.deviceKid,
      termsHash: opened.termsHash,
    });
    if (!auth.ok)
      return { ...verified, method: authentication.method, verdict: decline("authentication_failed", auth.reason) };
    return { ...verified, method: auth.method, passkeyCounter: auth.passkeyCounter, verdict: { approve: true } };
  }

  private async recurringAttempt(request: Attempt["request"], token: string): Promise<Attempt> {
    const base = { request, kind: "recurring" as const, method: "recurring_token" as const };
    const row = await tokenToCharge(this.issuer.db, token);
    if (!row) return { ...base, cardRef: null, verdict: decline("token_invalid", "no such recurring token") };
    const known = { ...base, cardRef: row.cardRef, recurringTokenId: row.id };
    if (row.revokedAt !== null)
      return { ...known, verdict: decline("token_invalid", "the recurring token was revoked") };
    if (row.merchantId !== request.merchantId)
      return { ...known, verdict: decline("token_invalid", "the recurring token belongs to another merchant") };
    if (row.currency !== request.currency)
      return { ...known, verdict: decline("token_invalid", "the recurring token is for another currency") };
    const consent = signedConsentOf(row);
    if (!consent)
      return {
        ...known,
        verdict: decline("token_invalid", "the recurring token carries no schedule signed by the payer"),
      };
    if (consent.expiresAt * 1000 <= this.issuer.now().getTime())
      return { ...known, verdict: decline("token_expired", "the mandate's end date has passed") };
    if (request.amount > consent.maxAmount)
      return { ...known, verdict: decline("token_over_cap", "the amount is over the mandate's cap per charge") };
    return { ...known, schedule: { tokenId: row.id, period: consent.period }, verdict: { approve: true } };
  }

  /**
   * Commits the decision (or finds the first one); see the file comment for the checks made here. A device
   * payment brings the account it read with its first decision (`paymentFacts`): its status, limits and
   * open-to-buy are checked on that row, then one statement (store.ts `insertDeviceDecision`) claims the nonce,
   * takes the hold with a guarded UPDATE that claims open-to-buy atomically, and records the decision; a
   * concurrent request for the same payment loses on the authorization's primary key and gets the first
   * decision. A recurring charge locks the card in a transaction: its period's slot is claimed under that lock
   * (recurring/charge-schedule.ts).
   */
  private async decide(attempt: Attempt, readAccount: CardRow | null): Promise<AuthorizationRow> {
    const now = this.issuer.now();
    let decided: { row: AuthorizationRow; reason: string | undefined; first: boolean };
    try {
      decided =
        attempt.kind === "device"
          ? await this.decideDevicePayment(attempt, readAccount, now)
          : await this.decideRecurringCharge(attempt, now);
    } catch (error) {
      // A concurrent request for the same payment committed first: its decision is the one.
      if (!isUniqueViolation(error)) throw error;
      const existing = await authorizationOf(this.issuer.db, attempt.request.paymentId);
      if (!existing) throw error;
      decided = { row: existing, reason: undefined, first: false };
    }
    const { row, reason, first } = decided;
    this.issuer.log.info(
      {
        event: "authorization",
        paymentId: row.paymentId,
        cardRef: row.cardRef,
        method: row.authMethod,
        decision: row.decision,
        declineCode: row.declineCode,
        reason,
        amount: row.amount,
        currency: row.currency,
        billingAmount: row.billingAmount,
        billingCurrency: row.billingCurrency,
        repeat: !first,
      },
      first ? "authorization decided" : "authorization repeated: first decision",
    );
    return row;
  }

  private async decideDevicePayment(
    attempt: Attempt,
    account: CardRow | null,
    now: Date,
  ): Promise<{ row: AuthorizationRow; reason: string | undefined; first: true }> {
    const pricing = account ? this.price(attempt.request, account.currency) : null;
    let verdict = attempt.verdict;
    if ("approve" in verdict) verdict = this.accountVerdict(account, pricing, attempt, now);
    const row = this.rowOf(attempt, pricing, verdict, now);
    if (!attempt.nonce || !attempt.deviceKid) {
      // Declined before the device's signature was good: nothing to claim.
      return { row: await insertAuthorization(this.issuer.db, row), reason: reasonOf(verdict), first: true };
    }
    const inserted = await insertDeviceDecision(this.issuer.db, row, {
      nonce: { deviceKid: attempt.deviceKid, nonce: attempt.nonce.nonce, expiresAt: attempt.nonce.expiresAt },
      hold: "approve" in verdict && account ? { cardRef: account.cardRef, amount: row.holdAmount } : null,
      passkeyCounter:
        attempt.passkeyCounter && attempt.cardRef ? { cardRef: attempt.cardRef, ...attempt.passkeyCounter } : null,
    });
    let reason = reasonOf(verdict);
    if (inserted.declineCode !== row.declineCode)
      reason =
        inserted.declineCode === "do_not_honor"
          ? "the device used this nonce for another payment"
          : inserted.declineCode === "authentication_failed"
            ? "the passkey's sign counter did not move forward"
            : "open-to-buy moved";
    return { row: inserted, reason, first: true };
  }

  private async decideRecurringCharge(
    attempt: Attempt,
    now: Date,
  ): Promise<{ row: AuthorizationRow; reason: string | undefined; first: boolean }> {
    return this.issuer.db.transaction(async (tx) => {
      const account = attempt.cardRef ? await lockCard(tx, attempt.cardRef) : null;
      const existing = await authorizationOf(tx, attempt.request.paymentId);
      if (existing) return { row: existing, reason: undefined, first: false };
      const pricing = account ? this.price(attempt.request, account.currency) : null;
      let verdict = attempt.verdict;
      if ("approve" in verdict) verdict = this.accountVerdict(account, pricing, attempt, now);
      let claimed: ClaimedCharge | null = null;
      if ("approve" in verdict && attempt.schedule) {
        claimed = await claimScheduledCharge(tx, attempt.schedule, attempt.request.amount, now);
        if (!claimed)
          verdict = decline(
            "mandate_limit_exceeded",
            "the charges or the total the payer consented to for this period are reached",
          );
      }
      const billed = pricing?.terms ? pricing.billed.billed : 0;
      if ("approve" in verdict && !(await moveOpenToBuy(tx, account!.cardRef, -billed))) {
        verdict = decline("insufficient_funds", "open-to-buy moved");
        if (claimed) await releaseScheduledCharge(tx, claimed);
      }
      const row = await insertAuthorization(tx, this.rowOf(attempt, pricing, verdict, now));
      return { row, reason: reasonOf(verdict), first: true };
    });
  }

  /** The purchase in the card's currency, at the reference rate and fee of today (fx/). */
  private price(request: Attempt["request"], billingCurrency: string): Pricing {
    const terms = this.fx.termsFor(request.currency, billingCurrency);
    if (!terms) return { billingCurrency, terms: null };
    return { billingCurrency, terms, billed: billedAmount(request.amount, request.currency, terms) };
  }

  /** Currency, the method's limit, the card's status and open-to-buy, on the locked account row. */
  private accountVerdict(account: CardRow | null, pricing: Pricing | null, attempt: Attempt, now: Date): Verdict {
    if (!account || !pricing) return decline("card_not_found", "no such card at this issuer");
    if (!pricing.terms)
      return decline(
        "currency_not_supported",
        `no reference rate from ${attempt.request.currency} to ${account.currency}`,
      );
    // Limits are in the card's currency and count the purchase, not the fee; open-to-buy counts what is billed.
    const { converted, billed } = pricing.billed;
    if (attempt.method === "pin" && converted > this.limits.pin)
      return decline("authentication_failed", "the amount is over the PIN limit; approve with a passkey");
    if (attempt.method === "passkey" && converted > this.limits.passkey)
      return decline("authentication_failed", "the amount is over the passkey limit");
    if (account.status === "lost_or_stolen") return decline("lost_or_stolen", "the card is reported lost or stolen");
    if (isExpired(account.expiryMonth, now)) return decline("expired_card", "the card has expired");
    if (account.status === "fraud_flagged") return decline("suspected_fraud", "the card is flagged for fraud");
    if (account.status !== "active") return decline("do_not_honor", "the card is not active");
    if (account.openToBuy < billed) return decline("insufficient_funds", "the amount is over the open-to-buy");
    return { approve: true };
  }

  /** The decision as a row: approved with a hold of the billed amount and a code, or declined. */
  private rowOf(attempt: Attempt, pricing: Pricing | null, verdict: Verdict, now: Date): NewAuthorization {
    const approved = "approve" in verdict;
    const { request } = attempt;
    const billed = pricing?.terms ? pricing.billed.billed : null;
    return {
      paymentId: request.paymentId,
      cardRef: attempt.cardRef,
      kind: attempt.kind,
      deviceKid: attempt.deviceKid ?? null,
      authMethod: attempt.method ?? null,
      recurringTokenId: attempt.recurringTokenId ?? null,
      merchantId: request.merchantId,
      merchantName: request.merchantName,
      amount: request.amount,
      currency: request.currency,
      billingCurrency: pricing?.billingCurrency ?? null,
      billingAmount: billed,
      fxRate: pricing?.terms?.rate ?? null,
      fxFeeBps: pricing?.terms?.feeBps ?? 0,
      captureMethod: request.captureMethod,
      decision: approved ? "approved" : "declined",
      declineCode: approved ? null : verdict.decline,
      authorizationCode: approved ? newAuthorizationCode() : null,
      status: approved ? "approved" : "declined",
      holdAmount: approved ? (billed ?? 0) : 0,
      decidedAt: now,
    };
  }
}

function reasonOf(verdict: Verdict): string | undefined {
  return "reason" in verdict ? verdict.reason : undefined;
}
