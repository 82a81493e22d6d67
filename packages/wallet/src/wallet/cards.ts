/**
 * The payer's cards on this device: enrollment through the card's issuer (a key the pay server merely lists is
 * never trusted), the split of the card's key (K_dev kept here, K_srv to the pay server) and removal.
 */
import type { BoundPasskey, PayerProfile } from "@mpay/protocol";
import { cardRecordOf, forgetCardShare, keepCardShare } from "../card-keys.ts";
import { certifiedIssuerFor, checkCardDetails, enrollmentJwe, sealNewCard, type CardDetails } from "../card-crypto.ts";
import type { Card } from "../pay-client.ts";
import { wipe } from "../secrets.ts";
import { sha256Base64url, type WalletCore } from "./core.ts";

/** An enrollment waiting for the one-time code the issuer sent to the cardholder's phone. */
export interface PendingCardEnrollment {
  readonly enrollmentId: string;
  readonly issuerId: string;
  readonly issuerName: string;
  /** The phone on file, masked by the issuer. */
  readonly codeSentTo: string;
  readonly expiresAt: string;
  /** Sends the code; on success seals the card records on this device, keeps K_dev and uploads K_srv. */
  complete(code: string): Promise<Card>;
}

export class WalletCards {
  readonly #core: WalletCore;

  constructor(core: WalletCore) {
    this.#core = core;
  }

  /** The cards of the payer (all devices); `onThisDevice` tells which this device holds a share of. */
  async list(): Promise<Array<Card & { onThisDevice: boolean }>> {
    const cards = await this.#core.client.cards.list();
    return Promise.all(
      cards.map(async (card) => ({
        ...card,
        onThisDevice: (await cardRecordOf(this.#core.store, card.id).catch(() => undefined)) !== undefined,
      })),
    );
  }

  /**
   * Starts enrolling a card on this device: finds the issuer whose network certificate covers the card (a key the
   * pay server merely lists is never trusted), encrypts PAN, expiry, CVC and this device's public key to it, and
   * has the pay server relay that. The issuer sends a one-time code to the phone on file; pass it to `complete`.
   */
  async startEnrollment(
    details: CardDetails,
    options: { profile?: PayerProfile; passkeys?: BoundPasskey[] } = {},
  ): Promise<PendingCardEnrollment> {
    const checked = checkCardDetails(details);
    const key = await this.#core.requireDeviceKey();
    const payer = await this.#core.payer();
    const now = this.#core.nowSeconds();
    const certificate = await certifiedIssuerFor(
      checked.pan,
      await this.#core.client.cards.issuers(),
      this.#core.roots,
      now,
    );
    const enrollment = await enrollmentJwe(certificate, checked, key.publicJwk, now, options.passkeys);
    // The statement names the JWE it travels with, so the server cannot pair this device's word with other card data.
    const deviceSignature = await this.#core.sign({
      purpose: "enroll-card",
      payerId: payer.id,
      issuerId: certificate.issuerId,
      enrollmentHash: await sha256Base64url(enrollment),
    });
    const started = await this.#core.client.cards.startEnrollment({
      issuerId: certificate.issuerId,
      enrollment,
      deviceSignature,
    });
    return {
      enrollmentId: started.id,
      issuerId: certificate.issuerId,
      issuerName: certificate.name,
      codeSentTo: started.codeSentTo,
      expiresAt: started.expiresAt,
      complete: async (code: string) =>
        this.sealAndStore(await this.#core.client.cards.verifyEnrollment(started.id, code), checked, options.profile),
    };
  }

  /** Seals a newly enrolled card's records under a fresh DEK, keeps K_dev here, and hands K_srv to the pay server. */
  async sealAndStore(card: Card, details: CardDetails, profile: PayerProfile | undefined): Promise<Card> {
    const payer = await this.#core.payer();
    const recordVersion = 1;
    const sealed = await sealNewCard(
      { cardId: card.id, payerId: payer.id, deviceId: card.deviceId, version: recordVersion },
      details,
      profile,
    );
    try {
      await keepCardShare(
        this.#core.store,
        {
          cardId: card.id,
          payerId: payer.id,
          deviceId: card.deviceId,
          issuerId: card.issuerId,
          cardRef: card.cardRef,
          last4: card.last4,
          brand: card.brand,
          recordVersion,
        },
        sealed.kDev,
      );
    } finally {
      wipe(sealed.kDev);
    }
    const deviceSignature = await this.#core.sign({
      purpose: "store-card-records",
      payerId: payer.id,
      cardId: card.id,
      recordVersion: String(recordVersion),
    });
    return this.#core.client.cards.storeRecords(card.id, {
      sealedCard: sealed.sealedCard,
      ...(sealed.sealedProfile !== undefined ? { sealedProfile: sealed.sealedProfile } : {}),
      recordVersion,
      kSrv: sealed.kSrv,
      deviceSignature,
    });
  }

  /** Removes a card: the pay server deletes its share and records; this device forgets its own share. */
  async remove(cardId: string): Promise<Card> {
    const signature = await this.#core.sign({ purpose: "remove-card", payerId: (await this.#core.payer()).id, cardId });
    const removed = await this.#core.client.cards.remove(cardId, signature);
    await forgetCardShare(this.#core.store, cardId);
    return removed;
  }
}
