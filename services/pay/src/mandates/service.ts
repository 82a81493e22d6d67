/**
 * Card-on-file mandates (issue 4, deliverable 7). A merchant asks for one with a payment (`setupFutureUsage`);
 * the payer sees its terms beside the payment's and the device signs it with the card data for the issuer
 * (sign-then-encrypt, like a payment); once the payment is authorized the issuer turns it into a token bound to
 * the merchant and the signed schedule (cap per charge, count and total per period, end date). The merchant
 * charges it off-session with `POST /v1/payments {mandate}`: the issuer, not the pay server, decides each charge
 * from the payer's signed schedule, so even a pay server whose KEK opens the token gets no more than the payer
 * agreed to (issue 7, hole 4). The payer revokes it.
 */
import { newId, type MandateTerms } from "@mpay/protocol";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { AuditService } from "../audit/service.ts";
import type { KeyProvider } from "../keys/provider.ts";
import type { IssuerService } from "../issuers/service.ts";
import type { RecurringToken } from "../issuers/connector.ts";
import type { PayerRow } from "../payers/service.ts";
import type { MerchantAuth } from "../merchants/service.ts";
import type { PaymentService } from "../payments/service.ts";
import { findMandate, insertMandate, mandatesOfPayer, markRevoked, type MandateRow } from "./store.ts";

import { tokenAad } from "./aad.ts";
import { mandateView } from "./view.ts";
import { emitEvent } from "../webhooks/events.ts";

export class MandateService {
  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    private readonly issuers: IssuerService,
    private readonly payments: PaymentService,
    private readonly audit: AuditService,
  ) {}

  /**
   * After the payment it came with was authorized: the issuer verifies the device's mandate and issues the token,
   * which is sealed at once; the payment names the mandate and the merchant gets `mandate.created`. Returns null
   * when the issuer refused or did not answer (the payment stands without a mandate; the merchant may ask again).
   */
  async createFromApproval(input: {
    mandateJwe: string;
    terms: MandateTerms;
    payerId: string;
    cardId: string;
    paymentId: string;
    mode: "test" | "live";
  }): Promise<MandateRow | null> {
    let token;
    try {
      token = await this.issuers.createRecurringToken(input.terms.aud, {
        mandate: input.mandateJwe,
        payerRef: input.payerId,
      });
    } catch {
      await this.audit.record({
        actor: `payer:${input.payerId}`,
        action: "mandate.refused",
        target: input.paymentId,
        data: { issuerId: input.terms.aud },
      });
      return null;
    }
    if (!sameSchedule(token, input.terms)) {
      // Not what the payer approved: not kept, and withdrawn at the issuer (the payment itself stands).
      await this.issuers.revokeRecurringToken(input.terms.aud, token.token).catch(() => {});
      await this.audit.record({
        actor: "system",
        action: "mandate.refused",
        target: input.paymentId,
        data: { issuerId: input.terms.aud, reason: "token terms differ from the approved mandate" },
      });
      return null;
    }
    const id = newId("recurringMandate");
    const plain = new TextEncoder().encode(token.token);
    const sealedToken = await this.keys.seal("recurring-token", plain, tokenAad(id));
    plain.fill(0);
    const mandate = await this.db.transaction(async (tx) => {
      const row = await insertMandate(tx, {
        id,
        merchantId: input.terms.merchantId,
        mode: input.mode,
        payerId: input.payerId,
        cardId: input.cardId,
        issuerId: input.terms.aud,
        sealedToken,
        maxAmount: input.terms.maxAmount,
        period: input.terms.period,
        currency: input.terms.currency,
        expiresAt: token.expiresAt,
        status: "active",
        paymentId: input.paymentId,
      });
      await this.payments.attachMandate(tx, input.paymentId, row.id);
      await emitEvent(tx, {
        merchantId: row.merchantId,
        mode: row.mode,
        type: "mandate.created",
        data: { mandate: mandateView(row) },
      });
      return row;
    });
    await this.audit.record({
      actor: `payer:${input.payerId}`,
      action: "mandate.created",
      target: id,
      data: {
        merchantId: mandate.merchantId,
        maxAmount: mandate.maxAmount,
        period: input.terms.period,
        currency: mandate.currency,
      },
    });
    return mandate;
  }

  /**
   * The merchant's own mandate, with its issuer token opened for one charge; read through the charge's transaction
   * (`db`), since PGlite's one connection is held by it.
   */
  async forCharge(
    db: Executor,
    auth: MerchantAuth,
    mandateId: string,
  ): Promise<{ mandate: MandateRow; token: string }> {
    const mandate = await findMandate(db, mandateId);
    if (!mandate || mandate.merchantId !== auth.merchantId || mandate.mode !== auth.mode)
      throw new ApiError("resource_missing", "No such mandate.", "mandate");
    const opened = await this.keys.open("recurring-token", mandate.sealedToken, tokenAad(mandate.id));
    const token = new TextDecoder().decode(opened);
    opened.fill(0);
    return { mandate, token };
  }

  async retrieve(auth: MerchantAuth, mandateId: string): Promise<MandateRow> {
    const mandate = await findMandate(this.db, mandateId);
    if (!mandate || mandate.merchantId !== auth.merchantId || mandate.mode !== auth.mode)
      throw new ApiError("resource_missing", "No such mandate.", "id");
    return mandate;
  }

  list(payer: PayerRow): Promise<MandateRow[]> {
    return mandatesOfPayer(this.db, payer.id);
  }

  /** The payer withdraws consent: the issuer revokes the token first (so no charge can pass), then it is marked here. */
  async revoke(payer: PayerRow, mandateId: string): Promise<MandateRow> {
    const mandate = await findMandate(this.db, mandateId);
    if (!mandate || mandate.payerId !== payer.id) throw new ApiError("resource_missing", "No such mandate.", "id");
    if (mandate.status === "revoked") return mandate;
    const opened = await this.keys.open("recurring-token", mandate.sealedToken, tokenAad(mandate.id));
    const token = new TextDecoder().decode(opened);
    opened.fill(0);
    await this.issuers.call((c) => c.revokeRecurringToken(mandate.issuerId, token));
    await this.db.transaction(async (tx) => {
      if (!(await markRevoked(tx, mandate.id))) return;
      const revoked = (await findMandate(tx, mandate.id))!;
      await emitEvent(tx, {
        merchantId: revoked.merchantId,
        mode: revoked.mode,
        type: "mandate.revoked",
        data: { mandate: mandateView(revoked) },
      });
    });
    await this.audit.record({
      actor: `payer:${payer.id}`,
      action: "mandate.revoked",
      target: mandate.id,
      data: { merchantId: mandate.merchantId },
    });
    return (await findMandate(this.db, mandate.id))!;
  }
}

/** The issuer's token is bound to exactly what the payer approved: merchant, currency, cap, period and end date. */
function sameSchedule(token: RecurringToken, terms: MandateTerms): boolean {
  const { period } = token;
  return (
    token.merchantId === terms.merchantId &&
    token.currency === terms.currency &&
    token.maxAmount === terms.maxAmount &&
    period.interval === terms.period.interval &&
    period.maxCharges === terms.period.maxCharges &&
    period.maxTotal === terms.period.maxTotal &&
    token.expiresAt.getTime() === terms.expiresAt * 1000
  );
}
