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
 * - The power order (DESIGN.md): a device's word alone never makes a security change. A second device binds on a
 *   bound device's word and the PIN (`approveNewDevice` there, `bindThisDevice` here), then waits; revoking another
 *   device, cancelling a pending change and finishing a recovery at once take the PIN; a PIN reset takes the card
 *   (the issuer's cardholder check). Every device sees what waits in `pendingChanges()`.
 * - Every device statement carries a single-use nonce from the server (`#sign`), so none can be replayed.
 */
import { termsTimeProblem, type BoundPasskey, type ApprovalTerms, type MandateTerms, type PayerProfile, type SharedDetails, type ShareableDetail } from "@mpay/protocol";
import { createDeviceKey, loadDeviceKey, signStatement, signTerms, DEVICE_KEY_RECORD, type DeviceKey, type DeviceStatement } from "./device-key.ts";
import { WalletError } from "./errors.ts";
import type { KeyStore } from "./key-store.ts";
import type {
  Card,
  Device,
  Mandate,
  Passkey,
  PendingChange,
  PinLoginPurpose,
  PinProof,
  PinReset,
  UserVerification,
  Payer,
  PayerSession,
  PayClient,
  PaymentApproval,
  PaymentOutcome,
  PinStatus,
  SignInStart,
} from "./pay-client.ts";
import type { NetworkRoot } from "@mpay/crypto";
import { cardRecordOf, forgetCardShare, keepCardShare, takeCardShare, type CardKeyRecord } from "./card-keys.ts";
import {
  certifiedIssuer,
  certifiedIssuerFor,
  checkCardDetails,
  enrollmentJwe,
  mandateJwe,
  openRelease,
  openWithShares,
  parseCardRecord,
  parseProfileRecord,
  paymentJwe,
  sealNewCard,
  type CardDetails,
} from "./card-crypto.ts";
import {
  assertPinFormat,
  DEFAULT_PIN_KEY_STRETCHING,
  finishPinLogin,
  finishPinRegistration,
  pinChallengeMac,
  startPinLogin,
  termsHashOf,
  startPinRegistration,
  type PinKeyStretching,
  type PinLoginFinish,
} from "./pin.ts";
import { wipe } from "./secrets.ts";
import { trustedRootsOf } from "./trusted-roots.ts";
import { base64url } from "jose";

export interface WalletOptions {
  keyStore: KeyStore;
  client: PayClient;
  /** The same for the PIN's registration and every login (see pin.ts); default "memory-constrained". */
  keyStretching?: PinKeyStretching;
  /** The key store record of the device key; default "device-key". */
  deviceKeyRecord?: string;
  /**
   * The card-network roots whose issuer certificates this wallet trusts. Required, with no default: a wallet that
   * fell back to the test network's roots, whose private keys are in the repository, would encrypt cards to any
   * pay server that minted itself an issuer certificate (issue 7). A production build passes the real network's
   * roots; `npm start` its demo root; tests the roots of `@mpay/wallet/testing`.
   */
  trustedRoots: readonly NetworkRoot[];
  /**
   * The wallet's clock (statement and enrollment times, the terms' window, certificates' validity); default the
   * device's. Drills move it with the servers' clocks (issue 7: time moves, nothing waits).
   */
  now?: () => Date;
}

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
  complete(code: string, options?: { pin?: string; revokeOtherDevices?: boolean }): Promise<{ deviceId: string; status: string; activatesAt: string; card: Card; revokedDevices: string[] }>;
}

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

const KID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export class Wallet {
  readonly #store: KeyStore;
  readonly #client: PayClient;
  readonly #keyStretching: PinKeyStretching;
  readonly #deviceKeyRecord: string;
  readonly #roots: readonly NetworkRoot[];
  readonly #now: () => Date;
  #deviceKey: Promise<DeviceKey> | undefined;
  #payer: Payer | undefined;

  constructor(options: WalletOptions) {
    this.#store = options.keyStore;
    this.#client = options.client;
    this.#keyStretching = options.keyStretching ?? DEFAULT_PIN_KEY_STRETCHING;
    this.#deviceKeyRecord = options.deviceKeyRecord ?? DEVICE_KEY_RECORD;
    this.#roots = trustedRootsOf(options.trustedRoots);
    this.#now = options.now ?? (() => new Date());
  }

  // --- sign-in: the page opens `authorizationUrl` in the messenger and hands back the redirect's query ---

  startSignIn(): Promise<SignInStart> {
    return this.#client.sessions.start();
  }

  /** Redeems the messenger's redirect (URL or query); the wallet then acts for that payer. Keep the session if you must, privately. */
  async finishSignIn(callback: string | URL | URLSearchParams): Promise<PayerSession> {
    const session = await this.#client.sessions.finish(callback);
    this.#payer = session.payer;
    return session;
  }

  /** The signed-in payer. */
  async payer(): Promise<Payer> {
    this.#payer ??= await this.#client.sessions.payer();
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
   * `approval` (the statement a bound device made with `approveNewDevice(<this device's kid>)`) and the payer's
   * `pin`, and is then `pending` until its waiting period ends (announced in the messenger).
   */
  async bindThisDevice(name: string, options?: { approval: string; pin: string }): Promise<Device> {
    const key = await this.ensureDeviceKey();
    if (options === undefined) return this.#client.devices.bind({ publicKeyJwk: key.publicJwk, name });
    const pin = await this.#pinProof(options.pin, `bind-device:${key.kid}`);
    return this.#client.devices.bind({ publicKeyJwk: key.publicJwk, name, approval: options.approval, pin });
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
    return (await this.#client.devices.list()).find((device) => device.keyThumbprint === key.kid);
  }

  devices(): Promise<Device[]> {
    return this.#client.devices.list();
  }

  /**
   * What waits to take effect — new devices, recoveries (which revoke the other devices when they take effect), a
   * PIN reset: show each with its `activatesAt` and offer "Not me — cancel" (`cancelPendingChange`).
   */
  pendingChanges(): Promise<PendingChange[]> {
    return this.#client.pendingChanges.list();
  }

  /** Cancels a pending change with the payer's PIN (a device's word alone cancels nothing); answers what still waits. */
  async cancelPendingChange(change: Pick<PendingChange, "id" | "kind">, pin: string): Promise<PendingChange[]> {
    const purpose: PinLoginPurpose = change.kind === "pin_reset" ? `cancel-pin-reset:${change.id}` : `cancel-device:${change.id}`;
    return this.#client.pendingChanges.cancel(change.id, await this.#pinProof(pin, purpose));
  }

  /**
   * Revokes a device of this payer. This device revokes itself on its own word; revoking another device takes the
   * payer's `pin` as well (a stolen phone must not throw the payer's other devices out).
   */
  async revokeDevice(deviceId: string, options: { pin?: string } = {}): Promise<Device> {
    const own = await this.#requireDeviceKey();
    const self = (await this.#client.devices.list()).find((d) => d.id === deviceId)?.keyThumbprint === own.kid;
    if (!self && options.pin === undefined) throw new WalletError("pin_format_invalid", "revoking another device takes the payer's PIN");
    const pin = self ? undefined : await this.#pinProof(options.pin!, `revoke-device:${deviceId}`);
    const signature = await this.#sign({ purpose: "revoke-device", payerId: (await this.payer()).id, deviceId });
    return this.#client.devices.revoke(deviceId, { signature, ...(pin ? { pin } : {}) });
  }

  // --- payment PIN ---

  pinStatus(): Promise<PinStatus> {
    return this.#client.pin.status();
  }

  /** Sets the payer's first PIN, vouched for by this bound device. */
  async setPin(pin: string): Promise<PinStatus> {
    assertPinFormat(pin);
    const registrationRecord = await this.#pinRegistrationRecord(pin);
    const deviceSignature = await this.#sign({ purpose: "set-pin", payerId: (await this.payer()).id });
    return this.#client.pin.set({ registrationRecord, deviceSignature });
  }

  /** Replaces the PIN after proving the current one. A wrong `currentPin` is `pin_incorrect` and spends a try. */
  async changePin(currentPin: string, newPin: string): Promise<PinStatus> {
    assertPinFormat(currentPin);
    assertPinFormat(newPin);
    const login = await this.#pinLogin(currentPin, "pin-change");
    wipe(login.finished.sessionKey);
    const registrationRecord = await this.#pinRegistrationRecord(newPin);
    return this.#client.pin.change({ loginId: login.loginId, finishLoginRequest: login.finished.finishLoginRequest, registrationRecord });
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
    await this.#client.pin.finishLogin({ loginId: login.loginId, finishLoginRequest: login.finished.finishLoginRequest });
    return true;
  }

  /**
   * Resets a forgotten (or locked) PIN from this active device with the card: its details go encrypted to its issuer
   * (the cardholder check, as at enrollment), whose code goes to the card's phone on file. After `complete(code)`
   * the reset waits the waiting period, announced in the messenger; whoever knows the current PIN can cancel it.
   */
  async startPinReset(details: CardDetails, newPin: string): Promise<PendingPinReset> {
    assertPinFormat(newPin);
    const checked = checkCardDetails(details);
    const key = await this.#requireDeviceKey();
    const payer = await this.payer();
    const now = this.#nowSeconds();
    const certificate = await certifiedIssuerFor(checked.pan, await this.#client.cards.issuers(), this.#roots, now);
    const enrollment = await enrollmentJwe(certificate, checked, key.publicJwk, now);
    const registrationRecord = await this.#pinRegistrationRecord(newPin);
    const deviceSignature = await this.#sign({
      purpose: "reset-pin",
      payerId: payer.id,
      issuerId: certificate.issuerId,
      recordHash: await sha256Base64url(registrationRecord),
      enrollmentHash: await sha256Base64url(enrollment),
    });
    const started = await this.#client.pin.startReset({ issuerId: certificate.issuerId, enrollment, registrationRecord, deviceSignature });
    return {
      resetId: started.id,
      issuerId: certificate.issuerId,
      issuerName: certificate.name,
      codeSentTo: started.codeSentTo,
      complete: (code: string) => this.#client.pin.verifyReset(started.id, code),
    };
  }

  // --- passkeys ---

  /**
   * Adds a passkey (biometrics) as another way to approve payments, vouched for by this device and proved with the
   * PIN (a device's word alone adds none). `create` runs the WebAuthn ceremony: `startRegistration({ optionsJSON })`
   * of @simplewebauthn/browser in a page. Keep the answer's `{ id, publicKey }` to bind it at enrollment
   * (`startCardEnrollment(…, { passkeys })`), so the issuer can check passkey approvals itself.
   */
  async addPasskey(pin: string, create: (options: Record<string, unknown>) => Promise<Record<string, unknown>>): Promise<Passkey> {
    assertPinFormat(pin);
    const deviceSignature = await this.#sign({ purpose: "add-passkey", payerId: (await this.payer()).id });
    const login = await this.#pinLogin(pin, "add-passkey");
    wipe(login.finished.sessionKey);
    const options = await this.#client.passkeys.registrationOptions({ deviceSignature, pin: { loginId: login.loginId, finishLoginRequest: login.finished.finishLoginRequest } });
    return this.#client.passkeys.register(await create(options));
  }

  // --- cards ---

  /** The cards of the payer (all devices); `onThisDevice` tells which this device holds a share of. */
  async cards(): Promise<Array<Card & { onThisDevice: boolean }>> {
    const cards = await this.#client.cards.list();
    return Promise.all(cards.map(async (card) => ({ ...card, onThisDevice: (await cardRecordOf(this.#store, card.id).catch(() => undefined)) !== undefined })));
  }

  /**
   * Starts enrolling a card on this device: finds the issuer whose network certificate covers the card (a key the
   * pay server merely lists is never trusted), encrypts PAN, expiry, CVC and this device's public key to it, and
   * has the pay server relay that. The issuer sends a one-time code to the phone on file; pass it to `complete`.
   */
  async startCardEnrollment(details: CardDetails, options: { profile?: PayerProfile; passkeys?: BoundPasskey[] } = {}): Promise<PendingCardEnrollment> {
    const checked = checkCardDetails(details);
    const key = await this.#requireDeviceKey();
    const payer = await this.payer();
    const now = this.#nowSeconds();
    const certificate = await certifiedIssuerFor(checked.pan, await this.#client.cards.issuers(), this.#roots, now);
    const enrollment = await enrollmentJwe(certificate, checked, key.publicJwk, now, options.passkeys);
    // The statement names the JWE it travels with, so the server cannot pair this device's word with other card data.
    const deviceSignature = await this.#sign({ purpose: "enroll-card", payerId: payer.id, issuerId: certificate.issuerId, enrollmentHash: await sha256Base64url(enrollment) });
    const started = await this.#client.cards.startEnrollment({ issuerId: certificate.issuerId, enrollment, deviceSignature });
    return {
      enrollmentId: started.id,
      issuerId: certificate.issuerId,
      issuerName: certificate.name,
      codeSentTo: started.codeSentTo,
      expiresAt: started.expiresAt,
      complete: (code: string) => this.#completeEnrollment(started.id, code, checked, options.profile),
    };
  }

  /**
   * For a payer who lost a device (or all of them): this new device (not bound yet; the messenger sign-in is done)
   * proves one of the payer's cards again at its issuer, whose code goes to the phone on file. `complete(code, { pin,
   * revokeOtherDevices })` with the PIN binds this device at once and, when asked, revokes every other device now (a
   * thief holding the old phone is cut off); without the PIN this device waits the waiting period, announced, and
   * then the others are revoked — unless someone with the PIN cancels it meanwhile.
   */
  async startRecovery(details: CardDetails, options: { deviceName: string; profile?: PayerProfile }): Promise<PendingRecovery> {
    const checked = checkCardDetails(details);
    const key = await this.ensureDeviceKey();
    const now = this.#nowSeconds();
    const certificate = await certifiedIssuerFor(checked.pan, await this.#client.cards.issuers(), this.#roots, now);
    const enrollment = await enrollmentJwe(certificate, checked, key.publicJwk, now);
    const started = await this.#client.recovery.start({ issuerId: certificate.issuerId, enrollment, publicKeyJwk: key.publicJwk, name: options.deviceName });
    return {
      recoveryId: started.id,
      issuerId: certificate.issuerId,
      issuerName: certificate.name,
      codeSentTo: started.codeSentTo,
      complete: async (code: string, finish: { pin?: string; revokeOtherDevices?: boolean } = {}) => {
        const pin = finish.pin === undefined ? undefined : await this.#recoveryPinProof(finish.pin, `recovery:${started.id}`);
        const recovered = await this.#client.recovery.verify(started.id, { code, ...(pin ? { pin } : {}), ...(finish.revokeOtherDevices ? { revokeOtherDevices: true } : {}) });
        const card = await this.#sealAndStore(recovered.card, checked, options.profile);
        return { deviceId: recovered.deviceId, status: recovered.status, activatesAt: recovered.activatesAt, card, revokedDevices: recovered.revokedDevices };
      },
    };
  }

  async #completeEnrollment(enrollmentId: string, code: string, details: CardDetails, profile: PayerProfile | undefined): Promise<Card> {
    return this.#sealAndStore(await this.#client.cards.verifyEnrollment(enrollmentId, code), details, profile);
  }

  /** Seals a newly enrolled card's records under a fresh DEK, keeps K_dev here, and hands K_srv to the pay server. */
  async #sealAndStore(card: Card, details: CardDetails, profile: PayerProfile | undefined): Promise<Card> {
    const payer = await this.payer();
    const recordVersion = 1;
    const sealed = await sealNewCard({ cardId: card.id, payerId: payer.id, deviceId: card.deviceId, version: recordVersion }, details, profile);
    try {
      await keepCardShare(this.#store, { cardId: card.id, payerId: payer.id, deviceId: card.deviceId, issuerId: card.issuerId, cardRef: card.cardRef, last4: card.last4, brand: card.brand, recordVersion }, sealed.kDev);
    } finally {
      wipe(sealed.kDev);
    }
    const deviceSignature = await this.#sign({ purpose: "store-card-records", payerId: payer.id, cardId: card.id, recordVersion: String(recordVersion) });
    return this.#client.cards.storeRecords(card.id, {
      sealedCard: sealed.sealedCard,
      ...(sealed.sealedProfile !== undefined ? { sealedProfile: sealed.sealedProfile } : {}),
      recordVersion,
      kSrv: sealed.kSrv,
      deviceSignature,
    });
  }

  /** The card-on-file mandates the payer gave merchants. */
  mandates(): Promise<Mandate[]> {
    return this.#client.mandates.list();
  }

  /** Withdraws a mandate: the issuer revokes its token, so no later charge passes. */
  revokeMandate(mandateId: string): Promise<Mandate> {
    return this.#client.mandates.revoke(mandateId);
  }

  /** Removes a card: the pay server deletes its share and records; this device forgets its own share. */
  async removeCard(cardId: string): Promise<Card> {
    const signature = await this.#sign({ purpose: "remove-card", payerId: (await this.payer()).id, cardId });
    const removed = await this.#client.cards.remove(cardId, signature);
    await forgetCardShare(this.#store, cardId);
    return removed;
  }

  // --- payment approval ---

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
  async approvePayment(paymentId: string, options: ApprovePaymentOptions): Promise<{ approval: PaymentApproval; payment: PaymentOutcome }> {
    if (typeof options.pin === "string") assertPinFormat(options.pin);
    if ((options.pin === undefined) === (options.passkey === undefined)) throw new WalletError("pin_format_invalid", "approve with a PIN or a passkey: give one of them");
    const key = await this.#requireDeviceKey();
    const card = await cardRecordOf(this.#store, options.cardId);
    if (card === undefined) throw new WalletError("card_not_on_device", "this card was not enrolled on this device; enroll it here first");
    const challenge = await this.#client.payments.approvalChallenge(paymentId, { deviceKey: key.kid, cardId: options.cardId });
    const { terms, mandate } = challenge;
    if (terms.paymentId !== paymentId || terms.aud !== card.issuerId || terms.cardRef !== card.cardRef) {
      throw new WalletError("terms_mismatch", "the pay server's terms are not for this payment and card; nothing was signed");
    }
    if (mandate && (mandate.aud !== terms.aud || mandate.cardRef !== terms.cardRef || mandate.merchantId !== terms.merchantId || mandate.merchantName !== terms.merchantName || mandate.currency !== terms.currency)) {
      throw new WalletError("terms_mismatch", "the mandate asked for is not for this payment's merchant and card; nothing was signed");
    }
    const problem = termsTimeProblem(terms, this.#nowSeconds());
    if (problem !== null) throw new WalletError(problem, `the pay server's terms cannot be approved: ${problem.replaceAll("_", " ")}`);

    // The page gets its own frozen copy: whatever it does with it, the wallet signs the terms it checked.
    if (!(await options.confirm(Object.freeze({ ...terms }), mandate ? frozenMandate(mandate) : null))) {
      throw new WalletError("approval_declined", "the payer did not approve the terms; nothing was signed and no PIN try was spent");
    }
    const deviceSignature = await signTerms(key.privateKey, key.kid, terms, { nowSeconds: this.#nowSeconds() });
    const verification = options.passkey ? { method: "passkey" as const, assertion: await options.passkey(await termsHashOf(terms)) } : await this.#pinVerification(options.pin!, challenge.id, terms);
    // A key for this payment only: the card is released to it, and it is gone when this call returns.
    const oneTime = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
    const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", oneTime.publicKey);
    const approval = await this.#client.payments.approve(challenge.id, {
      deviceSignature,
      verification,
      releaseKey: { kty, crv, x, y },
    });
    const envelopes = await this.#issuerEnvelopes(approval.release, oneTime.privateKey, card, terms, mandate, key, challenge.collect.length > 0 ? { asked: challenge.collect, share: options.share } : null);
    const payment = await this.#client.payments.authorize(approval.id, envelopes.payment, envelopes);
    const { release: _release, ...rest } = approval;
    return { approval: rest, payment };
  }

  /** The PIN proved in a login bound to this challenge, and the MAC of the terms under its session key. */
  async #pinVerification(given: string | (() => Promise<string>), challengeId: string, terms: ApprovalTerms): Promise<UserVerification> {
    const pin = typeof given === "string" ? given : await given();
    assertPinFormat(pin);
    const login = await this.#pinLogin(pin, `approval:${challengeId}`);
    try {
      const challengeMac = await pinChallengeMac(login.finished.sessionKey, challengeId, terms);
      return { method: "pin", loginId: login.loginId, finishLoginRequest: login.finished.finishLoginRequest, challengeMac };
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
      const { kDev } = await takeCardShare(this.#store, card.cardId);
      const binding = { cardId: card.cardId, payerId: card.payerId, deviceId: card.deviceId, version: card.recordVersion };
      try {
        cardBytes = await openWithShares(kDev, kSrv, { ...binding, purpose: "card" }, payload.sealedCard);
        if (sharing?.share && payload.sealedProfile) {
          const profileBytes = await openWithShares(kDev, kSrv, { ...binding, purpose: "profile" }, payload.sealedProfile);
          const profile = parseProfileRecord(profileBytes);
          wipe(profileBytes);
          const chosen = await sharing.share(sharing.asked, Object.freeze(profile));
          if (chosen) sharedDetails = Object.fromEntries(Object.entries(chosen).filter(([field]) => (sharing.asked as readonly string[]).includes(field))) as SharedDetails;
        }
      } finally {
        wipe(kDev);
      }
      const cardData = parseCardRecord(cardBytes);
      const certificate = await certifiedIssuer(terms.aud, await this.#client.cards.issuers(), this.#roots, this.#nowSeconds(), cardData.pan);
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

  // --- inside ---

  async #requireDeviceKey(): Promise<DeviceKey> {
    if (this.#deviceKey !== undefined) return this.#deviceKey;
    const key = await loadDeviceKey(this.#store, this.#deviceKeyRecord);
    if (key === undefined) throw new WalletError("device_key_missing", "this device has no device key yet: bind it first (bindThisDevice)");
    this.#deviceKey ??= Promise.resolve(key);
    return key;
  }

  /** The device's word on `statement`, with a fresh single-use nonce from the server (no statement is good twice). */
  async #sign(statement: DeviceStatement): Promise<string> {
    const key = await this.#requireDeviceKey();
    const nonce = await this.#client.devices.statementNonce();
    return signStatement(key.privateKey, key.kid, Object.assign({ nonce }, statement), { nowSeconds: this.#nowSeconds() });
  }

  #nowSeconds(): number {
    return Math.floor(this.#now().getTime() / 1000);
  }

  /** A PIN proof for one security change: the login's finish, its session key wiped at once. */
  async #pinProof(pin: string, purpose: PinLoginPurpose, options: { previousPin?: boolean } = {}): Promise<PinProof> {
    assertPinFormat(pin);
    const login = await this.#pinLogin(pin, purpose, options);
    wipe(login.finished.sessionKey);
    return { loginId: login.loginId, finishLoginRequest: login.finished.finishLoginRequest };
  }

  /**
   * A recovery's PIN proof: the current PIN, or else the PIN as it was before a change made within the waiting
   * period (someone who saw the PIN on a stolen phone and changed it must not keep the payer out). Each try counts.
   */
  async #recoveryPinProof(pin: string, purpose: PinLoginPurpose): Promise<PinProof> {
    try {
      return await this.#pinProof(pin, purpose);
    } catch (error) {
      if (!(error instanceof WalletError) || error.code !== "pin_incorrect") throw error;
      return this.#pinProof(pin, purpose, { previousPin: true }).catch((second: unknown) => {
        throw second instanceof WalletError ? second : error;
      });
    }
  }

  async #pinRegistrationRecord(pin: string): Promise<string> {
    const start = await startPinRegistration(pin, { keyStretching: this.#keyStretching });
    const registrationResponse = await this.#client.pin.registration(start.registrationRequest);
    return (await finishPinRegistration(start.state, registrationResponse)).registrationRecord;
  }

  /**
   * A PIN login up to the finish request, which the caller sends with what it is for. The server counts the try
   * when the start arrives; a wrong PIN shows here (OPAQUE cannot finish) and is reported with the tries left.
   */
  async #pinLogin(pin: string, purpose: PinLoginPurpose, options: { previousPin?: boolean } = {}): Promise<{ loginId: string; finished: PinLoginFinish }> {
    const start = await startPinLogin(pin, { keyStretching: this.#keyStretching });
    const answer = await this.#client.pin.startLogin({ startLoginRequest: start.startLoginRequest, purpose, ...(options.previousPin ? { previousPin: true } : {}) });
    try {
      return { loginId: answer.loginId, finished: await finishPinLogin(start.state, answer.loginResponse) };
    } catch (error) {
      if (!(error instanceof WalletError) || error.code !== "pin_incorrect") throw error;
      const left = answer.triesLeft;
      throw new WalletError("pin_incorrect", left > 0 ? `the PIN is not correct; ${left} ${left === 1 ? "try" : "tries"} left before it locks` : "the PIN is not correct, and it is now locked");
    }
  }
}

/** The page's copy of the mandate, nested schedule included: whatever the page does, the wallet signs what it checked. */
function frozenMandate(mandate: MandateTerms): Readonly<MandateTerms> {
  return Object.freeze({ ...mandate, period: Object.freeze({ ...mandate.period }) });
}

/** base64url of the SHA-256 of `text` (WebCrypto): how statements name the JWE or record they cover. */
async function sha256Base64url(text: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}
