/**
 * Recovery for a payer who lost a device (or all of them): this new device (not bound yet; the messenger sign-in is
 * done) proves one of the payer's cards again at its issuer, whose code goes to the phone on file.
 */
import type { PayerProfile } from "@mpay/protocol";
import { certifiedIssuerFor, checkCardDetails, enrollmentJwe, type CardDetails } from "../card-crypto.ts";
import { WalletError } from "../errors.ts";
import type { Card, PinLoginPurpose, PinProof } from "../pay-client.ts";
import type { WalletCards } from "./cards.ts";
import type { WalletCore } from "./core.ts";

/** A recovery waiting for the one-time code the issuer sent to the cardholder's phone. */
export interface PendingRecovery {
  readonly recoveryId: string;
  readonly issuerId: string;
  readonly issuerName: string;
  readonly codeSentTo: string;
  /**
   * Sends the code. With `pin` this device is active at once (and `revokeOtherDevices` revokes every other device
   * now, listed in `revokedDevices`); without, it is pending until `activatesAt`. The card is sealed on it.
   */
  complete(
    code: string,
    options?: { pin?: string; revokeOtherDevices?: boolean },
  ): Promise<{ deviceId: string; status: string; activatesAt: string; card: Card; revokedDevices: string[] }>;
}

export class WalletRecovery {
  readonly #core: WalletCore;
  readonly #cards: WalletCards;

  constructor(core: WalletCore, cards: WalletCards) {
    this.#core = core;
    this.#cards = cards;
  }

  /**
   * `complete(code, { pin, revokeOtherDevices })` with the PIN binds this device at once and, when asked, revokes
   * every other device now (a thief holding the old phone is cut off); without the PIN this device waits the
   * waiting period, announced, and then the others are revoked — unless someone with the PIN cancels it meanwhile.
   */
  async start(details: CardDetails, options: { deviceName: string; profile?: PayerProfile }): Promise<PendingRecovery> {
    const checked = checkCardDetails(details);
    const key = await this.#core.ensureDeviceKey();
    const now = this.#core.nowSeconds();
    const certificate = await certifiedIssuerFor(
      checked.pan,
      await this.#core.client.cards.issuers(),
      this.#core.roots,
      now,
    );
    const enrollment = await enrollmentJwe(certificate, checked, key.publicJwk, now);
    const started = await this.#core.client.recovery.start({
      issuerId: certificate.issuerId,
      enrollment,
      publicKeyJwk: key.publicJwk,
      name: options.deviceName,
    });
    return {
      recoveryId: started.id,
      issuerId: certificate.issuerId,
      issuerName: certificate.name,
      codeSentTo: started.codeSentTo,
      complete: async (code: string, finish: { pin?: string; revokeOtherDevices?: boolean } = {}) => {
        const pin = finish.pin === undefined ? undefined : await this.#pinProof(finish.pin, `recovery:${started.id}`);
        const recovered = await this.#core.client.recovery.verify(started.id, {
          code,
          ...(pin ? { pin } : {}),
          ...(finish.revokeOtherDevices ? { revokeOtherDevices: true } : {}),
        });
        const card = await this.#cards.sealAndStore(recovered.card, checked, options.profile);
        return {
          deviceId: recovered.deviceId,
          status: recovered.status,
          activatesAt: recovered.activatesAt,
          card,
          revokedDevices: recovered.revokedDevices,
        };
      },
    };
  }

  /**
   * A recovery's PIN proof: the current PIN, or else the PIN as it was before a change made within the waiting
   * period (someone who saw the PIN on a stolen phone and changed it must not keep the payer out). Each try counts.
   */
  async #pinProof(pin: string, purpose: PinLoginPurpose): Promise<PinProof> {
    try {
      return await this.#core.pinProof(pin, purpose);
    } catch (error) {
      if (!(error instanceof WalletError) || error.code !== "pin_incorrect") throw error;
      return this.#core.pinProof(pin, purpose, { previousPin: true }).catch((second: unknown) => {
        throw second instanceof WalletError ? second : error;
      });
    }
  }
}
