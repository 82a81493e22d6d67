/**
 * The payment PIN from this device: set it (vouched for by the device), change it (proving the current one), check
 * it, and reset a forgotten one with the card (the issuer's cardholder check, then the waiting period).
 */
import { certifiedIssuerFor, checkCardDetails, enrollmentJwe, type CardDetails } from "../card-crypto.ts";
import { WalletError } from "../errors.ts";
import type { PinReset, PinStatus } from "../pay-client.ts";
import { assertPinFormat, type PinLoginFinish } from "../pin.ts";
import { wipe } from "../secrets.ts";
import { sha256Base64url, type WalletCore } from "./core.ts";

/** A PIN reset waiting for the one-time code the issuer sent to the card's phone on file. */
export interface PendingPinReset {
  readonly resetId: string;
  readonly issuerId: string;
  readonly issuerName: string;
  /** The masked phone number the code went to. */
  readonly codeSentTo: string;
  /** Sends the code: the reset then waits the waiting period (`activatesAt`), announced, unless a PIN proof cancels it. */
  complete(code: string): Promise<PinReset>;
}

export class WalletPin {
  readonly #core: WalletCore;

  constructor(core: WalletCore) {
    this.#core = core;
  }

  status(): Promise<PinStatus> {
    return this.#core.client.pin.status();
  }

  /** Sets the payer's first PIN, vouched for by this bound device. */
  async set(pin: string): Promise<PinStatus> {
    assertPinFormat(pin);
    const registrationRecord = await this.#core.pinRegistrationRecord(pin);
    const deviceSignature = await this.#core.sign({ purpose: "set-pin", payerId: (await this.#core.payer()).id });
    return this.#core.client.pin.set({ registrationRecord, deviceSignature });
  }

  /** Replaces the PIN after proving the current one. A wrong `currentPin` is `pin_incorrect` and spends a try. */
  async change(currentPin: string, newPin: string): Promise<PinStatus> {
    assertPinFormat(currentPin);
    assertPinFormat(newPin);
    const login = await this.#core.pinLogin(currentPin, "pin-change");
    wipe(login.finished.sessionKey);
    const registrationRecord = await this.#core.pinRegistrationRecord(newPin);
    return this.#core.client.pin.change({
      loginId: login.loginId,
      finishLoginRequest: login.finished.finishLoginRequest,
      registrationRecord,
    });
  }

  /** True when `pin` is the payer's PIN; false when it is not (that spends a try: see `status()`). */
  async check(pin: string): Promise<boolean> {
    assertPinFormat(pin);
    let login: { loginId: string; finished: PinLoginFinish };
    try {
      login = await this.#core.pinLogin(pin, "pin-check");
    } catch (error) {
      if (error instanceof WalletError && error.code === "pin_incorrect") return false;
      throw error;
    }
    wipe(login.finished.sessionKey);
    await this.#core.client.pin.finishLogin({
      loginId: login.loginId,
      finishLoginRequest: login.finished.finishLoginRequest,
    });
    return true;
  }

  /**
   * Resets a forgotten (or locked) PIN from this active device with the card: its details go encrypted to its issuer
   * (the cardholder check, as at enrollment), whose code goes to the card's phone on file. After `complete(code)`
   * the reset waits the waiting period, announced in the messenger; whoever knows the current PIN can cancel it.
   */
  async startReset(details: CardDetails, newPin: string): Promise<PendingPinReset> {
    assertPinFormat(newPin);
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
    const enrollment = await enrollmentJwe(certificate, checked, key.publicJwk, now);
    const registrationRecord = await this.#core.pinRegistrationRecord(newPin);
    const deviceSignature = await this.#core.sign({
      purpose: "reset-pin",
      payerId: payer.id,
      issuerId: certificate.issuerId,
      recordHash: await sha256Base64url(registrationRecord),
      enrollmentHash: await sha256Base64url(enrollment),
    });
    const started = await this.#core.client.pin.startReset({
      issuerId: certificate.issuerId,
      enrollment,
      registrationRecord,
      deviceSignature,
    });
    return {
      resetId: started.id,
      issuerId: certificate.issuerId,
      issuerName: certificate.name,
      codeSentTo: started.codeSentTo,
      complete: (code: string) => this.#core.client.pin.verifyReset(started.id, code),
    };
  }
}
