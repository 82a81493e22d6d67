/**
 * Payment approval by the payer's device (issue 3, deliverable 5; DESIGN.md "Split custody" step 2).
 *
 * challenge: for a payment awaiting approval, the server fixes the terms once (canonical JSON of
 * packages/protocol's approval terms, with the merchant's registered display name, never request text) for one
 * payer and one active device, valid at most 5 minutes.
 * approve: validate → load the challenge → check it is unused, unexpired, for a payment still awaiting approval
 * and a device still active → verify the device's JWS is over exactly those terms → verify fresh user
 * verification bound to this challenge (a PIN login for `approval:<challengeId>` whose session key MACs the
 * terms, or a passkey assertion whose challenge is the terms' hash) → spend the challenge (one winner, in any
 * process) → record the approval.
 *
 * The approval names one card of the vault, enrolled on the approving device. Once the approval is recorded, in
 * the same transaction, the card is released to that device for this payment: K_srv and the sealed records,
 * encrypted to the one-time key the device sent with the approval (vault/release.ts). The payment stays
 * `requires_approval`: only the issuer's decision (authorizations/service.ts) moves it on.
 */
import type { Clock } from "@mpay/service-kit";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import {
  approvalTermsSchema,
  canonicalTerms,
  newId,
  pinApprovalMessage,
  type ApprovalTerms,
  type MandateTerms,
} from "@mpay/protocol";
import canonicalize from "canonicalize";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { DeviceService } from "../devices/service.ts";
import type { IssuerService } from "../issuers/service.ts";
import type { MerchantService } from "../merchants/service.ts";
import type { PaymentService } from "../payments/service.ts";
import type { PayerRow } from "../payers/service.ts";
import type { PinService } from "../pin/service.ts";
import { signerOf } from "../devices/signatures.ts";
import {
  approvalOfPayment,
  approvedBy,
  findApprovalOfPayment,
  findApprovalWithChallenge,
  findChallengeById,
  findChallengeToApprove,
  insertChallenge,
  spendChallengeForApproval,
  type ApprovalRow,
  type ChallengeRow,
} from "./store.ts";
import { verifyTermsSignature } from "./terms-signature.ts";
import { termsHash } from "./terms-hash.ts";
import type { VaultService } from "../vault/service.ts";
import { releaseKeyOf } from "../vault/release.ts";
import { faultPoint } from "../fault-points.ts";

const CHALLENGE_TTL_SECONDS = 300;

export type UserVerification =
  | { method: "pin"; loginId: string; finishLoginRequest: string; challengeMac: string }
  | { method: "passkey"; assertion: unknown };

/** Verifies a passkey assertion whose WebAuthn challenge must be `expectedChallenge` (the terms' hash). */
export interface PasskeyVerifier {
  verifyApproval(payer: PayerRow, assertion: unknown, expectedChallenge: string): Promise<{ passkeyId: string }>;
}

export class ApprovalService {
  private passkeys: PasskeyVerifier | null = null;

  constructor(
    private readonly db: Db,
    private readonly payments: PaymentService,
    private readonly merchants: MerchantService,
    private readonly devices: DeviceService,
    private readonly pins: PinService,
    private readonly vault: VaultService,
    private readonly clock: Clock,
    private readonly issuers: Pick<IssuerService, "assertAvailable">,
  ) {}

  /** Passkeys are verified by their own context, which is wired in after this one. */
  usePasskeys(verifier: PasskeyVerifier): void {
    this.passkeys = verifier;
  }

  async challenge(
    payer: PayerRow,
    paymentId: string,
    input: { deviceKey: string; cardId: string },
  ): Promise<{ challenge: ChallengeRow; terms: ApprovalTerms; mandate: MandateTerms | null; collect: string[] }> {
    const device = await this.devices.activeDevice(payer.id, input.deviceKey);
    if (!device) throw new ApiError("device_not_active", "Approve from one of your active devices.", "deviceKey");
    const card = await this.vault.cardForApproval(payer, input.cardId, device);
    // An issuer whose circuit breaker is open would refuse the authorization unsent: say so before the payer is asked
    // for a PIN, and before the payment's one approval is spent on a request that cannot go out.
    this.issuers.assertAvailable(card.issuerId);
    const payment = await this.payments.forApproval(paymentId);
    const merchantName = await this.merchants.displayName(payment.merchantId);
    if (merchantName === null) throw new ApiError("resource_missing", "No such payment.", "id");
    const merchant = { id: payment.merchantId, displayName: merchantName };
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const exp = Math.min(now + CHALLENGE_TTL_SECONDS, Math.floor(payment.approvalExpiresAt.getTime() / 1000));
    const terms: ApprovalTerms = {
      aud: card.issuerId,
      cardRef: card.cardRef,
      paymentId: payment.id,
      merchantId: merchant.id,
      merchantName: merchant.displayName,
      amount: payment.amount,
      currency: payment.currency,
      captureMethod: payment.captureMethod as ApprovalTerms["captureMethod"],
      nonce: randomBytes(16).toString("base64url"),
      iat: now,
      exp,
    };
    // The card-on-file mandate the merchant asked for with this payment: shown and signed beside the payment, with
    // its whole schedule, which the issuer then enforces. A request stored before schedules existed has no period:
    // no mandate is offered for it (the payment itself stands), since the issuer would refuse one without.
    const asked = payment.setupFutureUsage;
    const mandate: MandateTerms | null = asked?.period
      ? {
          aud: card.issuerId,
          cardRef: card.cardRef,
          merchantId: merchant.id,
          merchantName: merchant.displayName,
          maxAmount: asked.maxAmount,
          period: asked.period,
          currency: payment.currency,
          expiresAt: asked.expiresAt,
          nonce: randomBytes(16).toString("base64url"),
          iat: now,
        }
      : null;
    const challenge = await insertChallenge(this.db, {
      id: newId("approvalChallenge"),
      paymentId: payment.id,
      merchantId: merchant.id,
      payerId: payer.id,
      deviceId: device.id,
      cardId: card.id,
      terms: canonicalTerms(terms),
      mandateTerms: mandate ? (canonicalize(mandate) ?? null) : null,
      expiresAt: new Date(exp * 1000),
    });
    return { challenge, terms, mandate, collect: payment.collect ?? [] };
  }

  /**
   * Records the approval and releases the card to the approving device for this payment: the answer's `release`
   * is a JWE to `releaseKey` that only that device can open.
   */
  async approve(
    payer: PayerRow,
    challengeId: string,
    input: { deviceSignature: string; verification: UserVerification; releaseKey: unknown },
  ): Promise<{ approval: ApprovalRow; release: string }> {
    const releaseKey = releaseKeyOf(input.releaseKey);
    const found = await findChallengeToApprove(this.db, challengeId, payer.id);
    if (!found) throw new ApiError("resource_missing", "No such approval challenge.", "id");
    const { challenge } = found;
    if (challenge.usedAt)
      throw new ApiError("approval_challenge_used", "This challenge was already used; each approval needs a new one.");
    if (challenge.expiresAt.getTime() <= this.clock.now().getTime())
      throw new ApiError("approval_challenge_expired", "The challenge expired; ask for a new one.");
    await this.payments.forApproval(challenge.paymentId);
    if (found.approved) throw alreadyApproved();
    const device = await this.devices.activeDevice(payer.id, signerOf(input.deviceSignature));
    if (!device || device.id !== challenge.deviceId) {
      throw new ApiError(
        "approval_signature_invalid",
        "The terms must be signed by the active device the challenge was issued to.",
      );
    }
    await verifyTermsSignature(input.deviceSignature, device, challenge.terms);
    // As at the challenge: no PIN try and no approval spent while the card's issuer cannot be reached.
    this.issuers.assertAvailable((JSON.parse(challenge.terms) as ApprovalTerms).aud);
    const method = await this.verifyUser(payer, challenge, input.verification);
    const released = await this.db.transaction(async (tx) => {
      // Spent and recorded in one statement; the unique index on the payment lets one of two approvals of one
      // payment (two challenges, racing) through.
      const approval = await spendChallengeForApproval(tx, {
        id: newId("approval"),
        challengeId: challenge.id,
        paymentId: challenge.paymentId,
        merchantId: challenge.merchantId,
        payerId: payer.id,
        deviceId: device.id,
        method: method.method,
        deviceSignature: input.deviceSignature,
        passkeyAssertion: method.assertion ?? null,
      }).catch((error: unknown) => {
        if (uniqueViolation(error)) throw alreadyApproved();
        throw error;
      });
      if (!approval)
        throw new ApiError(
          "approval_challenge_used",
          "This challenge was already used; each approval needs a new one.",
        );
      // The device may have been revoked while the PIN or passkey was being checked: revocation is immediate.
      // Read inside the transaction: PGlite has one connection, so a read outside it would wait for it forever.
      if (!(await this.devices.isActive(payer.id, device.id, tx)))
        throw new ApiError("approval_signature_invalid", "The device was revoked.");
      // In the approval's transaction: a release that fails leaves the challenge unspent, never half an approval.
      const card = await this.vault.cardOfChallenge(tx, payer, challenge.cardId, device);
      const release = await this.vault.release(tx, card, releaseKey);
      faultPoint("approval.release.before-commit");
      return { approval, release };
    });
    faultPoint("approval.release.after-commit");
    return released;
  }

  /**
   * An approval ready to go to the issuer: the payer's own, its challenge's terms, and the device that signed them
   * (still active: revocation is immediate).
   */
  async forAuthorization(
    payer: PayerRow,
    approvalId: string,
  ): Promise<{ approval: ApprovalRow; challenge: ChallengeRow; terms: ApprovalTerms; deviceKid: string }> {
    const found = await findApprovalWithChallenge(this.db, approvalId, payer.id);
    if (!found) throw new ApiError("resource_missing", "No such approval.", "id");
    const { approval, challenge } = found;
    const device = await this.devices.activeDeviceById(payer.id, approval.deviceId);
    if (!device) throw new ApiError("approval_signature_invalid", "The device of this approval was revoked.");
    return {
      approval,
      challenge,
      terms: approvalTermsSchema.parse(JSON.parse(challenge.terms)),
      deviceKid: device.keyThumbprint,
    };
  }

  /** The vault card a payment's approval named (for the reconciler, which has no payer session). */
  async cardOfPayment(paymentId: string): Promise<string | null> {
    const approval = await findApprovalOfPayment(this.db, paymentId);
    return approval ? ((await findChallengeById(this.db, approval.challengeId))?.cardId ?? null) : null;
  }

  /** Who approved the payment, with which card; null while no one has (the payer's view of payments). */
  /** `db`: the caller's transaction when it reads inside one (the embedded database has a single connection). */
  approvalOf(paymentId: string, db: Executor = this.db): Promise<{ payerId: string; cardId: string | null } | null> {
    return approvalOfPayment(db, paymentId);
  }

  /** The payments the payer approved, newest first, and the card each named: the payer's receipts. */
  approvedBy(
    payerId: string,
    page: { limit: number; startingAfter?: string | undefined },
  ): Promise<Array<{ paymentId: string; cardId: string | null }>> {
    return approvedBy(this.db, payerId, page);
  }

  private async verifyUser(
    payer: PayerRow,
    challenge: ChallengeRow,
    verification: UserVerification,
  ): Promise<{ method: "pin" | "passkey"; assertion?: unknown }> {
    if (verification.method === "pin") {
      const sessionKey = await this.pins.verifyLogin(
        payer,
        verification.loginId,
        verification.finishLoginRequest,
        `approval:${challenge.id}`,
      );
      try {
        const expected = createHmac("sha256", sessionKey)
          .update(pinApprovalMessage(challenge.id, termsHash(challenge.terms)))
          .digest();
        const given = Buffer.from(verification.challengeMac, "base64url");
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          throw new ApiError("user_verification_invalid", "The PIN confirmation does not cover this payment's terms.");
        }
      } finally {
        sessionKey.fill(0);
      }
      return { method: "pin" };
    }
    if (!this.passkeys)
      throw new ApiError("user_verification_required", "Passkey approval is not available on this server.");
    await this.passkeys.verifyApproval(payer, verification.assertion, termsHash(challenge.terms));
    return { method: "passkey", assertion: verification.assertion };
  }
}

/** PostgreSQL's unique_violation, as the driver throws it or as drizzle wraps it. */
function uniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string } };
  return e.code === "23505" || e.cause?.code === "23505";
}

function alreadyApproved(): ApiError {
  return new ApiError(
    "payment_invalid_state",
    "This payment is already approved and waits for the card issuer's decision.",
  );
}
