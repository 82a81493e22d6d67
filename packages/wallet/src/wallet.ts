/**
 * The wallet: what the checkout page, the messenger's wallet screen and the tests use (issue 3, deliverable 6).
 * It joins this device's keys (a `KeyStore`), the PIN over OPAQUE and the pay server (a `PayClient`), and shows
 * nothing itself: the page opens the messenger's sign-in, collects the PIN and shows the terms it is handed.
 *
 * One API over resource-sized parts (`wallet/`), as the pay client is split: devices and pending changes, the PIN,
 * cards, recovery, passkeys and payments, each over one shared core (`wallet/core.ts`: the device key, the device's
 * word and the PIN proofs). The rules it keeps on the device side (DESIGN.md "Authentication without plugins"):
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
 * - Every device statement carries a single-use nonce from the server (`WalletCore.sign`), so none can be replayed.
 */
import type { BoundPasskey, PayerProfile } from "@mpay/protocol";
import type { CardDetails } from "./card-crypto.ts";
import type { DeviceKey } from "./device-key.ts";
import type {
  Card,
  Device,
  Mandate,
  Passkey,
  Payer,
  PayerSession,
  PaymentApproval,
  PaymentOutcome,
  PendingChange,
  PinStatus,
  SignInStart,
} from "./pay-client.ts";
import { createSignInPkce, signInCodeFrom } from "./client/sessions.ts";
import { WalletCards, type PendingCardEnrollment } from "./wallet/cards.ts";
import { WalletCore, type WalletOptions } from "./wallet/core.ts";
import { WalletDevices } from "./wallet/devices.ts";
import { WalletPasskeys } from "./wallet/passkeys.ts";
import { WalletPayments, type ApprovePaymentOptions } from "./wallet/payments.ts";
import { WalletPin, type PendingPinReset } from "./wallet/pin.ts";
import { WalletRecovery, type PendingRecovery } from "./wallet/recovery.ts";

export type { ApprovePaymentOptions, PendingCardEnrollment, PendingPinReset, PendingRecovery, WalletOptions };

export class Wallet {
  readonly #core: WalletCore;
  readonly #devices: WalletDevices;
  readonly #pin: WalletPin;
  readonly #cards: WalletCards;
  readonly #recovery: WalletRecovery;
  readonly #passkeys: WalletPasskeys;
  readonly #payments: WalletPayments;

  constructor(options: WalletOptions) {
    this.#core = new WalletCore(options);
    this.#devices = new WalletDevices(this.#core);
    this.#pin = new WalletPin(this.#core);
    this.#cards = new WalletCards(this.#core);
    this.#recovery = new WalletRecovery(this.#core, this.#cards);
    this.#passkeys = new WalletPasskeys(this.#core);
    this.#payments = new WalletPayments(this.#core);
  }

  // --- sign-in: the page opens `authorizationUrl` in the messenger; the pay server sends the browser back to the
  // wallet's landing page (`/wallet/signin?code=plc_…`), whose URL the page hands to `finishSignIn` ---

  /**
   * Starts a sign-in with a fresh PKCE pair made here: keep `codeVerifier` until the landing (a web page keeps it in
   * sessionStorage, as the page itself is left for the messenger's login), and never put it in a URL.
   */
  async startSignIn(): Promise<SignInStart & { codeVerifier: string }> {
    const pkce = await createSignInPkce();
    const start = await this.#core.client.sessions.start({ codeChallenge: pkce.codeChallenge });
    return { ...start, codeVerifier: pkce.codeVerifier };
  }

  /**
   * Exchanges the landing page's code (its URL, query or parameters) with the verifier from `startSignIn`; the
   * wallet then acts for that payer. A landing with `?error=` throws that code. Keep the session if you must, privately.
   */
  async finishSignIn(landing: string | URL | URLSearchParams, codeVerifier: string): Promise<PayerSession> {
    const session = await this.#core.client.sessions.exchange({ code: signInCodeFrom(landing), codeVerifier });
    this.#core.usePayer(session.payer);
    return session;
  }

  /** The signed-in payer. */
  payer(): Promise<Payer> {
    return this.#core.payer();
  }

  /** Forgets the session on this device (the server's session ends at its expiry). */
  signOut(): void {
    this.#core.client.useSession(undefined);
    this.#core.usePayer(undefined);
  }

  // --- this device and the others (wallet/devices.ts) ---

  /** This device's key: loaded from the key store, or made there (ECDSA P-256, non-extractable in use) on first call. */
  ensureDeviceKey(): Promise<DeviceKey> {
    return this.#core.ensureDeviceKey();
  }

  /** Binds this device: the first with nothing more; a later one with another device's `approval` and the PIN, then it waits. */
  bindThisDevice(name: string, options?: { approval: string; pin: string }): Promise<Device> {
    return this.#devices.bindThisDevice(name, options);
  }

  /** On a bound device: vouches for a new device of the same payer, named by its key id (good for 5 minutes). */
  approveNewDevice(deviceKey: string): Promise<string> {
    return this.#devices.approveNewDevice(deviceKey);
  }

  /** The server's record of this device, or undefined when it is not bound (or the key is not made yet). */
  thisDevice(): Promise<Device | undefined> {
    return this.#devices.thisDevice();
  }

  devices(): Promise<Device[]> {
    return this.#devices.list();
  }

  /** What waits to take effect (new devices, recoveries, a PIN reset): show each and offer "Not me — cancel". */
  pendingChanges(): Promise<PendingChange[]> {
    return this.#devices.pendingChanges();
  }

  /** Cancels a pending change with the payer's PIN (a device's word alone cancels nothing); answers what still waits. */
  cancelPendingChange(change: Pick<PendingChange, "id" | "kind">, pin: string): Promise<PendingChange[]> {
    return this.#devices.cancelPendingChange(change, pin);
  }

  /** Revokes a device: this one on its own word; another one with the payer's `pin` as well. */
  revokeDevice(deviceId: string, options: { pin?: string } = {}): Promise<Device> {
    return this.#devices.revoke(deviceId, options);
  }

  // --- payment PIN (wallet/pin.ts) ---

  pinStatus(): Promise<PinStatus> {
    return this.#pin.status();
  }

  /** Sets the payer's first PIN, vouched for by this bound device. */
  setPin(pin: string): Promise<PinStatus> {
    return this.#pin.set(pin);
  }

  /** Replaces the PIN after proving the current one. A wrong `currentPin` is `pin_incorrect` and spends a try. */
  changePin(currentPin: string, newPin: string): Promise<PinStatus> {
    return this.#pin.change(currentPin, newPin);
  }

  /** True when `pin` is the payer's PIN; false when it is not (that spends a try: see `pinStatus()`). */
  checkPin(pin: string): Promise<boolean> {
    return this.#pin.check(pin);
  }

  /** Resets a forgotten (or locked) PIN with the card (the issuer's cardholder check), then the waiting period. */
  startPinReset(details: CardDetails, newPin: string): Promise<PendingPinReset> {
    return this.#pin.startReset(details, newPin);
  }

  // --- passkeys (wallet/passkeys.ts) ---

  /** Adds a passkey with this device's word and the PIN; `create` runs the WebAuthn ceremony. */
  addPasskey(
    pin: string,
    create: (options: Record<string, unknown>) => Promise<Record<string, unknown>>,
  ): Promise<Passkey> {
    return this.#passkeys.add(pin, create);
  }

  // --- cards (wallet/cards.ts) and recovery (wallet/recovery.ts) ---

  /** The cards of the payer (all devices); `onThisDevice` tells which this device holds a share of. */
  cards(): Promise<Array<Card & { onThisDevice: boolean }>> {
    return this.#cards.list();
  }

  /** Starts enrolling a card on this device with its certified issuer, which texts a code to the phone on file. */
  startCardEnrollment(
    details: CardDetails,
    options: { profile?: PayerProfile; passkeys?: BoundPasskey[] } = {},
  ): Promise<PendingCardEnrollment> {
    return this.#cards.startEnrollment(details, options);
  }

  /** Removes a card: the pay server deletes its share and records; this device forgets its own share. */
  removeCard(cardId: string): Promise<Card> {
    return this.#cards.remove(cardId);
  }

  /** For a payer who lost a device (or all of them): this new device proves one of the payer's cards again. */
  startRecovery(
    details: CardDetails,
    options: { deviceName: string; profile?: PayerProfile },
  ): Promise<PendingRecovery> {
    return this.#recovery.start(details, options);
  }

  // --- mandates ---

  /** The card-on-file mandates the payer gave merchants. */
  mandates(): Promise<Mandate[]> {
    return this.#core.client.mandates.list();
  }

  /** Withdraws a mandate: the issuer revokes its token, so no later charge passes. */
  revokeMandate(mandateId: string): Promise<Mandate> {
    return this.#core.client.mandates.revoke(mandateId);
  }

  // --- payment approval (wallet/payments.ts) ---

  /**
   * Pays with a card of this device: the payer confirms the server's terms, the device signs exactly those, the PIN
   * (or a passkey) is proved for this challenge, and the card goes encrypted to its issuer. Throws
   * `approval_declined` when `confirm` resolves false, `pin_incorrect` for a wrong PIN (a try is spent),
   * `terms_mismatch` when the server's terms are not for this payment and card, and the server's errors as
   * `PayApiError`.
   */
  approvePayment(
    paymentId: string,
    options: ApprovePaymentOptions,
  ): Promise<{ approval: PaymentApproval; payment: PaymentOutcome }> {
    return this.#payments.approve(paymentId, options);
  }
}
