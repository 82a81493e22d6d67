/**
 * Paying with a card of this device (DESIGN.md "Authentication without plugins"): the payer sees the terms before
 * anything is spent (`confirm` runs before the PIN login, so a payer who declines spends no PIN try); the device
 * signs only what the payer confirmed, and the PIN success is bound to that one challenge (the MAC under the OPAQUE
 * session key, wiped as soon as the MAC is made); the card is opened only on this device, for this payment.
 */
import {
  termsTimeProblem,
  type ApprovalTerms,
  type MandateTerms,
  type PayerProfile,
  type SharedDetails,
  type ShareableDetail,
} from "@mpay/protocol";
import { cardRecordOf, takeCardShare, type CardKeyRecord } from "../card-keys.ts";
import {
  certifiedIssuer,
  mandateJwe,
  openRelease,
  openWithShares,
  parseCardRecord,
  parseProfileRecord,
  paymentJwe,
} from "../card-crypto.ts";
import { signTerms, type DeviceKey } from "../device-key.ts";
import { WalletError } from "../errors.ts";
import type { PaymentApproval, PaymentOutcome, UserVerification } from "../pay-client.ts";
import { assertPinFormat, pinChallengeMac, termsHashOf } from "../pin.ts";
import { wipe } from "../secrets.ts";
import type { WalletCore } from "./core.ts";

export interface ApprovePaymentOptions {
  /** The payment PIN, or a function that asks for it once the payer has confirmed the terms. */
  pin?: string | (() => Promise<string>);
  /**
   * Instead of the PIN: a passkey. Called with the WebAuthn challenge (the terms' hash) once the payer has confirmed
   * the terms; resolves with the assertion (`startAuthentication()` of @simplewebauthn/browser in a page), made
   * with user verification. The issuer checks it against the passkeys bound when the card was enrolled.
   */
  passkey?: (challenge: string) => Promise<Record<string, unknown>>;
  /** The card the payer chose: one enrolled on this device (`cards()` tells which). */
  cardId: string;
  /**
   * Shows the terms and resolves true if the payer approves them. The page shows only these fields (merchant's
   * registered display name, amount, currency…). False stops here: nothing is signed and no PIN try is spent.
   * When the merchant asks for a card-on-file mandate with the payment, it is shown too (`mandate`: the merchant,
   * its schedule — `maxAmount` per charge, `period` { interval "day" | "week" | "month", `maxCharges`, `maxTotal` }
   * per period, in UTC calendar periods — and the end date `expiresAt`), and true approves both. The device signs
   * that schedule and the card's issuer declines every charge beyond it, whoever holds the merchant's token.
   */
  confirm(terms: Readonly<ApprovalTerms>, mandate: Readonly<MandateTerms> | null): Promise<boolean>;
  /**
   * When the merchant asks for personal details (`asked`: name, email, phone, shipping), the wallet opens the
   * personal record sealed with the card (on this device only) and asks the payer what to share: resolve with
   * those fields (one shipping address), or null to share nothing. Only asked fields are sent, for this payment.
   */
  share?(asked: readonly ShareableDetail[], profile: Readonly<PayerProfile>): Promise<SharedDetails | null>;
}

export class WalletPayments {
  readonly #core: WalletCore;

  constructor(core: WalletCore) {
    this.#core = core;
  }

  /**
   * Pays with a card of this device: gets the challenge, has the payer confirm its terms, signs exactly those terms,
   * proves the PIN in a login bound to this challenge and sends the approval with a key made for this payment; the
   * pay server answers with the card released to that key. The wallet combines the shares, opens the card record,
   * signs the terms with the card data and encrypts that to the issuer's certified key, sends it, and forgets
   * K_srv, the DEK and the opened record. Answers with the payment as the issuer decided it.
   * Throws `approval_declined` when `confirm` resolves false, `pin_incorrect` for a wrong PIN (a try is spent),
   * `terms_mismatch` when the server's terms are not for this payment and card, and the server's errors as
   * `PayApiError`.
   */
  async approve(
    paymentId: string,
    options: ApprovePaymentOptions,
  ): Promise<{ approval: PaymentApproval; payment: PaymentOutcome }> {
    if (typeof options.pin === "string") assertPinFormat(options.pin);
    if ((options.pin === undefined) === (options.passkey === undefined))
      throw new WalletError("pin_format_invalid", "approve with a PIN or a passkey: give one of them");
    const key = await this.#core.requireDeviceKey();
    const card = await cardRecordOf(this.#core.store, options.cardId);
    if (card === undefined)
      throw new WalletError("card_not_on_device", "this card was not enrolled on this device; enroll it here first");
    const challenge = await this.#core.client.payments.approvalChallenge(paymentId, {
      deviceKey: key.kid,
      cardId: options.cardId,
    });
    const { terms, mandate } = challenge;
    if (terms.paymentId !== paymentId || terms.aud !== card.issuerId || terms.cardRef !== card.cardRef) {
      throw new WalletError(
        "terms_mismatch",
        "the pay server's terms are not for this payment and card; nothing was signed",
      );
    }
    if (
      mandate &&
      (mandate.aud !== terms.aud ||
        mandate.cardRef !== terms.cardRef ||
        mandate.merchantId !== terms.merchantId ||
        mandate.merchantName !== terms.merchantName ||
        mandate.currency !== terms.currency)
    ) {
      throw new WalletError(
        "terms_mismatch",
        "the mandate asked for is not for this payment's merchant and card; nothing was signed",
      );
    }
    const problem = termsTimeProblem(terms, this.#core.nowSeconds());
    if (problem !== null)
      throw new WalletError(problem, `the pay server's terms cannot be approved: ${problem.replaceAll("_", " ")}`);

    // The page gets its own frozen copy: whatever it does with it, the wallet signs the terms it checked.
    if (!(await options.confirm(Object.freeze({ ...terms }), mandate ? frozenMandate(mandate) : null))) {
      throw new WalletError(
        "approval_declined",
        "the payer did not approve the terms; nothing was signed and no PIN try was spent",
      );
    }
    const deviceSignature = await signTerms(key.privateKey, key.kid, terms, { nowSeconds: this.#core.nowSeconds() });
    const verification = options.passkey
      ? { method: "passkey" as const, assertion: await options.passkey(await termsHashOf(terms)) }
      : await this.#pinVerification(options.pin!, challenge.id, terms);
    // A key for this payment only: the card is released to it, and it is gone when this call returns.
    const oneTime = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
    const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", oneTime.publicKey);
    const approval = await this.#core.client.payments.approve(challenge.id, {
      deviceSignature,
      verification,
      releaseKey: { kty, crv, x, y },
    });
    const envelopes = await this.#issuerEnvelopes(
      approval.release,
      oneTime.privateKey,
      card,
      terms,
      mandate,
      key,
      challenge.collect.length > 0 ? { asked: challenge.collect, share: options.share } : null,
    );
    const payment = await this.#core.client.payments.authorize(approval.id, envelopes.payment, envelopes);
    const { release: _release, ...rest } = approval;
    return { approval: rest, payment };
  }

  /** The PIN proved in a login bound to this challenge, and the MAC of the terms under its session key. */
  async #pinVerification(
    given: string | (() => Promise<string>),
    challengeId: string,
    terms: ApprovalTerms,
  ): Promise<UserVerification> {
    const pin = typeof given === "string" ? given : await given();
    assertPinFormat(pin);
    const login = await this.#core.pinLogin(pin, `approval:${challengeId}`);
    try {
      const challengeMac = await pinChallengeMac(login.finished.sessionKey, challengeId, terms);
      return {
        method: "pin",
        loginId: login.loginId,
        finishLoginRequest: login.finished.finishLoginRequest,
        challengeMac,
      };
    } finally {
      wipe(login.finished.sessionKey);
    }
  }

  /** Opens the release, combines the shares, opens the card and builds the issuer's JWEs; wipes every secret. */
  async #issuerEnvelopes(
    release: string,
    oneTimeKey: CryptoKey,
    card: CardKeyRecord,
    terms: ApprovalTerms,
    mandate: MandateTerms | null,
    key: DeviceKey,
    sharing: { asked: readonly ShareableDetail[]; share: ApprovePaymentOptions["share"] } | null,
  ): Promise<{ payment: string; mandate?: string; sharedDetails?: SharedDetails }> {
    const { kSrv, payload } = await openRelease(release, oneTimeKey);
    let cardBytes: Uint8Array | undefined;
    let sharedDetails: SharedDetails | undefined;
    try {
      if (payload.cardId !== card.cardId || payload.recordVersion !== card.recordVersion) {
        throw new WalletError("card_record_invalid", "the pay server released another card or an older version of it");
      }
      const { kDev } = await takeCardShare(this.#core.store, card.cardId);
      const binding = {
        cardId: card.cardId,
        payerId: card.payerId,
        deviceId: card.deviceId,
        version: card.recordVersion,
      };
      try {
        cardBytes = await openWithShares(kDev, kSrv, { ...binding, purpose: "card" }, payload.sealedCard);
        if (sharing?.share && payload.sealedProfile) {
          const profileBytes = await openWithShares(
            kDev,
            kSrv,
            { ...binding, purpose: "profile" },
            payload.sealedProfile,
          );
          const profile = parseProfileRecord(profileBytes);
          wipe(profileBytes);
          const chosen = await sharing.share(sharing.asked, Object.freeze(profile));
          if (chosen)
            sharedDetails = Object.fromEntries(
              Object.entries(chosen).filter(([field]) => (sharing.asked as readonly string[]).includes(field)),
            ) as SharedDetails;
        }
      } finally {
        wipe(kDev);
      }
      const cardData = parseCardRecord(cardBytes);
      const certificate = await certifiedIssuer(
        terms.aud,
        await this.#core.client.cards.issuers(),
        this.#core.roots,
        this.#core.nowSeconds(),
        cardData.pan,
      );
      const payment = await paymentJwe(certificate, key.privateKey, key.kid, terms, cardData);
      return {
        payment,
        ...(mandate ? { mandate: await mandateJwe(certificate, key.privateKey, key.kid, mandate, cardData) } : {}),
        ...(sharedDetails ? { sharedDetails } : {}),
      };
    } finally {
      wipe(kSrv);
      if (cardBytes) wipe(cardBytes);
    }
  }
}

/** The page's copy of the mandate, nested schedule included: whatever the page does, the wallet signs what it checked. */
function frozenMandate(mandate: MandateTerms): Readonly<MandateTerms> {
  return Object.freeze({ ...mandate, period: Object.freeze({ ...mandate.period }) });
}
