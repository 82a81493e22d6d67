/**
 * The wallet: what the checkout page, the messenger's wallet screen and the tests use (issue 3, deliverable 6).
 * It joins this device's keys (a `KeyStore`), the PIN over OPAQUE and the pay server (a `PayClient`), and shows
 * nothing itself: the page opens the messenger's sign-in, collects the PIN and shows the terms it is handed.
 *
 * The rules it keeps on the device side (DESIGN.md "Authentication without plugins"):
 * - The payer sees the terms before anything is spent: `confirm(terms)` runs before the PIN login, so a payer who
 *   declines spends no PIN try. The terms are the server's, checked against the protocol schema and against the
 *   payment, card and issuer the wallet asked for; the page shows only them (the merchant's registered name,
 *   amount, currency), never text from the merchant's request.
 * - The device signs only what the payer confirmed, and the PIN success is bound to that one challenge (the MAC
 *   under the OPAQUE session key); the session key is wiped as soon as the MAC is made.
 * - A second device binds only on a bound device's word (`approveNewDevice` there, `bindThisDevice` here), and then
 *   waits; every bound device sees it in `pendingDevices()` and can cancel it.
 */
import { termsTimeProblem, type ApprovalTerms } from "@mpay/protocol";
import { createDeviceKey, loadDeviceKey, signStatement, signTerms, DEVICE_KEY_RECORD, type DeviceKey, type DeviceStatement } from "./device-key.ts";
import { WalletError } from "./errors.ts";
import type { KeyStore } from "./key-store.ts";
import type { Device, Payer, PayerSession, PayClient, PaymentApproval, PinStatus, SignInStart } from "./pay-client.ts";
import {
  assertPinFormat,
  DEFAULT_PIN_KEY_STRETCHING,
  finishPinLogin,
  finishPinRegistration,
  pinChallengeMac,
  startPinLogin,
  startPinRegistration,
  type PinKeyStretching,
  type PinLoginFinish,
} from "./pin.ts";
import { wipe } from "./secrets.ts";

export interface WalletOptions {
  keyStore: KeyStore;
  client: PayClient;
  /** The same for the PIN's registration and every login (see pin.ts); default "memory-constrained". */
  keyStretching?: PinKeyStretching;
  /** The key store record of the device key; default "device-key". */
  deviceKeyRecord?: string;
}

export interface ApprovePaymentOptions {
  /** The payment PIN, or a function that asks for it once the payer has confirmed the terms. */
  pin: string | (() => Promise<string>);
  /** The card the payer chose, and its issuer (until the card vault names them). */
  cardRef: string;
  issuerId: string;
  /**
   * Shows the terms and resolves true if the payer approves them. The page shows only these fields (merchant's
   * registered display name, amount, currency…). False stops here: nothing is signed and no PIN try is spent.
   */
  confirm(terms: Readonly<ApprovalTerms>): Promise<boolean>;
}

const KID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export class Wallet {
  readonly #store: KeyStore;
  readonly #client: PayClient;
  readonly #keyStretching: PinKeyStretching;
  readonly #deviceKeyRecord: string;
  #deviceKey: Promise<DeviceKey> | undefined;
  #payer: Payer | undefined;

  constructor(options: WalletOptions) {
    this.#store = options.keyStore;
    this.#client = options.client;
    this.#keyStretching = options.keyStretching ?? DEFAULT_PIN_KEY_STRETCHING;
    this.#deviceKeyRecord = options.deviceKeyRecord ?? DEVICE_KEY_RECORD;
  }

  // --- sign-in: the page opens `authorizationUrl` in the messenger and hands back the redirect's query ---

  startSignIn(): Promise<SignInStart> {
    return this.#client.startSignIn();
  }

  /** Redeems the messenger's redirect (URL or query); the wallet then acts for that payer. Keep the session if you must, privately. */
  async finishSignIn(callback: string | URL | URLSearchParams): Promise<PayerSession> {
    const session = await this.#client.finishSignIn(callback);
    this.#payer = session.payer;
    return session;
  }

  /** The signed-in payer. */
  async payer(): Promise<Payer> {
    this.#payer ??= await this.#client.me();
    return this.#payer;
  }

  /** Forgets the session on this device (the server's session ends at its expiry). */
  signOut(): void {
    this.#client.useSession(undefined);
    this.#payer = undefined;
  }

  // --- this device ---

  /** This device's key: loaded from the key store, or made there (ECDSA P-256, non-extractable in use) on first call. */
  ensureDeviceKey(): Promise<DeviceKey> {
    this.#deviceKey ??= (async () => (await loadDeviceKey(this.#store, this.#deviceKeyRecord)) ?? createDeviceKey(this.#store, this.#deviceKeyRecord))();
    this.#deviceKey.catch(() => (this.#deviceKey = undefined));
    return this.#deviceKey;
  }

  /**
   * Binds this device to the signed-in payer. The payer's first device needs nothing more; any later one needs
   * `approvalFrom`, the statement a bound device made with `approveNewDevice(<this device's kid>)`, and then it is
   * `pending` until its waiting period ends.
   */
  async bindThisDevice(name: string, approvalFrom?: string): Promise<Device> {
    const key = await this.ensureDeviceKey();
    return this.#client.bindDevice({ publicKeyJwk: key.publicJwk, name, ...(approvalFrom !== undefined ? { approval: approvalFrom } : {}) });
  }

  /**
   * On a bound device: vouches for a new device of the same payer, named by its key id (the `kid` its wallet shows,
   * for example in a QR code). The statement is good for 5 minutes; the new device sends it with `bindThisDevice`.
   */
  async approveNewDevice(deviceKey: string): Promise<string> {
    if (typeof deviceKey !== "string" || !KID_PATTERN.test(deviceKey)) {
      throw new WalletError("device_key_id_invalid", "the new device is named by its key id: 43 base64url characters");
    }
    const own = await this.#requireDeviceKey();
    if (own.kid === deviceKey) throw new WalletError("device_key_id_invalid", "a device cannot approve itself; scan the new device's key id");
    return this.#sign({ purpose: "bind-device", payerId: (await this.payer()).id, deviceKey });
  }

  /** The server's record of this device, or undefined when it is not bound (or the key is not made yet). */
  async thisDevice(): Promise<Device | undefined> {
    const key = await loadDeviceKey(this.#store, this.#deviceKeyRecord);
    if (key === undefined) return undefined;
    return (await this.#client.devices()).find((device) => device.keyThumbprint === key.kid);
  }

  devices(): Promise<Device[]> {
    return this.#client.devices();
  }

  /** Devices waiting to be able to pay: show each, with its `activatesAt`, and offer to cancel it. */
  pendingDevices(): Promise<Device[]> {
    return this.#client.pendingChanges();
  }

  /** Cancels a pending binding, signed by this (active) device. */
  async cancelPendingDevice(deviceId: string): Promise<Device> {
    const signature = await this.#sign({ purpose: "cancel-device", payerId: (await this.payer()).id, deviceId });
    return this.#client.cancelPendingDevice(deviceId, signature);
  }

  /** Revokes a device of this payer (this one included), signed with this device's key. */
  async revokeDevice(deviceId: string): Promise<Device> {
    const signature = await this.#sign({ purpose: "revoke-device", payerId: (await this.payer()).id, deviceId });
    return this.#client.revokeDevice(deviceId, signature);
  }

  // --- payment PIN ---

  pinStatus(): Promise<PinStatus> {
    return this.#client.pinStatus();
  }

  /** Sets the payer's first PIN, vouched for by this bound device. */
  async setPin(pin: string): Promise<PinStatus> {
    assertPinFormat(pin);
    const registrationRecord = await this.#pinRegistrationRecord(pin);
    const deviceSignature = await this.#sign({ purpose: "set-pin", payerId: (await this.payer()).id });
    return this.#client.setPin({ registrationRecord, deviceSignature });
  }

  /** Replaces the PIN after proving the current one. A wrong `currentPin` is `pin_incorrect` and spends a try. */
  async changePin(currentPin: string, newPin: string): Promise<PinStatus> {
    assertPinFormat(currentPin);
    assertPinFormat(newPin);
    const login = await this.#pinLogin(currentPin, "pin-change");
    wipe(login.finished.sessionKey);
    const registrationRecord = await this.#pinRegistrationRecord(newPin);
    return this.#client.changePin({ loginId: login.loginId, finishLoginRequest: login.finished.finishLoginRequest, registrationRecord });
  }

  /** True when `pin` is the payer's PIN; false when it is not (that spends a try: see `pinStatus()`). */
  async checkPin(pin: string): Promise<boolean> {
    assertPinFormat(pin);
    let login: { loginId: string; finished: PinLoginFinish };
    try {
      login = await this.#pinLogin(pin, "pin-check");
    } catch (error) {
      if (error instanceof WalletError && error.code === "pin_incorrect") return false;
      throw error;
    }
    wipe(login.finished.sessionKey);
    await this.#client.pinLoginFinish({ loginId: login.loginId, finishLoginRequest: login.finished.finishLoginRequest });
    return true;
  }

  // --- payment approval ---

  /**
   * Approves a payment with the PIN: gets the challenge, has the payer confirm its terms, signs exactly those
   * terms with the device key, proves the PIN in a login bound to this challenge, and sends the approval.
   * Throws `approval_declined` when `confirm` resolves false, `pin_incorrect` for a wrong PIN (a try is spent),
   * `terms_mismatch` when the server's terms are not for this payment and card, and the server's errors as
   * `PayApiError`.
   */
  async approvePayment(paymentId: string, options: ApprovePaymentOptions): Promise<PaymentApproval> {
    if (typeof options.pin === "string") assertPinFormat(options.pin);
    const key = await this.#requireDeviceKey();
    const challenge = await this.#client.approvalChallenge(paymentId, { deviceKey: key.kid, cardRef: options.cardRef, issuerId: options.issuerId });
    const { terms } = challenge;
    if (terms.paymentId !== paymentId || terms.cardRef !== options.cardRef || terms.aud !== options.issuerId) {
      throw new WalletError("terms_mismatch", "the pay server's terms are not for this payment, card and issuer; nothing was signed");
    }
    const problem = termsTimeProblem(terms, Math.floor(Date.now() / 1000));
    if (problem !== null) throw new WalletError(problem, `the pay server's terms cannot be approved: ${problem.replaceAll("_", " ")}`);

    // The page gets its own frozen copy: whatever it does with it, the wallet signs the terms it checked.
    if (!(await options.confirm(Object.freeze({ ...terms })))) {
      throw new WalletError("approval_declined", "the payer did not approve the terms; nothing was signed and no PIN try was spent");
    }
    const pin = typeof options.pin === "string" ? options.pin : await options.pin();
    assertPinFormat(pin);
    const deviceSignature = await signTerms(key.privateKey, key.kid, terms);
    const login = await this.#pinLogin(pin, `approval:${challenge.id}`);
    let challengeMac: string;
    try {
      challengeMac = await pinChallengeMac(login.finished.sessionKey, challenge.id, terms);
    } finally {
      wipe(login.finished.sessionKey);
    }
    return this.#client.approve(challenge.id, {
      deviceSignature,
      verification: { method: "pin", loginId: login.loginId, finishLoginRequest: login.finished.finishLoginRequest, challengeMac },
    });
  }

  // --- inside ---

  async #requireDeviceKey(): Promise<DeviceKey> {
    if (this.#deviceKey !== undefined) return this.#deviceKey;
    const key = await loadDeviceKey(this.#store, this.#deviceKeyRecord);
    if (key === undefined) throw new WalletError("device_key_missing", "this device has no device key yet: bind it first (bindThisDevice)");
    this.#deviceKey ??= Promise.resolve(key);
    return key;
  }

  async #sign(statement: DeviceStatement): Promise<string> {
    const key = await this.#requireDeviceKey();
    return signStatement(key.privateKey, key.kid, statement);
  }

  async #pinRegistrationRecord(pin: string): Promise<string> {
    const start = await startPinRegistration(pin, { keyStretching: this.#keyStretching });
    const registrationResponse = await this.#client.pinRegistration(start.registrationRequest);
    return (await finishPinRegistration(start.state, registrationResponse)).registrationRecord;
  }

  /**
   * A PIN login up to the finish request, which the caller sends with what it is for. The server counts the try
   * when the start arrives; a wrong PIN shows here (OPAQUE cannot finish) and is reported with the tries left.
   */
  async #pinLogin(pin: string, purpose: "pin-check" | "pin-change" | `approval:${string}`): Promise<{ loginId: string; finished: PinLoginFinish }> {
    const start = await startPinLogin(pin, { keyStretching: this.#keyStretching });
    const answer = await this.#client.pinLogin({ startLoginRequest: start.startLoginRequest, purpose });
    try {
      return { loginId: answer.loginId, finished: await finishPinLogin(start.state, answer.loginResponse) };
    } catch (error) {
      if (!(error instanceof WalletError) || error.code !== "pin_incorrect") throw error;
      const left = answer.triesLeft;
      throw new WalletError("pin_incorrect", left > 0 ? `the PIN is not correct; ${left} ${left === 1 ? "try" : "tries"} left before it locks` : "the PIN is not correct, and it is now locked");
    }
  }
}
