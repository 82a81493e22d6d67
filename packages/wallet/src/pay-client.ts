/**
 * The pay server's payer routes as a small typed client (issue 3, deliverable 6), split by resource as stripe-node
 * splits its API (`client.devices.bind(…)`, `client.pin.startLogin(…)`, `client.payments.approve(…)`): one class per
 * resource in `client/`, all over one request core (`client/request.ts`: the session token, the timeout, errors as
 * `PayApiError`). Requests and answers are the schemas of @mpay/protocol's `payer-api/`, the ones the pay server's
 * routes declare. One code base for browsers and Node: the global `fetch`, nothing from `node:`. It holds one
 * secret, the payer's session token, in a private field, so it never shows in a log of the client object.
 */
import { Cards } from "./client/cards.ts";
import { Devices } from "./client/devices.ts";
import { Mandates } from "./client/mandates.ts";
import { Passkeys } from "./client/passkeys.ts";
import { Payments } from "./client/payments.ts";
import { PendingChanges } from "./client/pending-changes.ts";
import { Pin } from "./client/pin.ts";
import { Recovery } from "./client/recovery.ts";
import { PayRequester, type PayRequestOptions } from "./client/request.ts";
import { Sessions } from "./client/sessions.ts";

export type { Card, CardEnrollment, IssuerListing } from "./client/cards.ts";
export type { Device, DeviceStatus } from "./client/devices.ts";
export type { Mandate } from "./client/mandates.ts";
export type { Passkey } from "./client/passkeys.ts";
export type {
  ApprovalChallenge,
  PaymentApproval,
  PaymentOutcome,
  ReleasedApproval,
  UserVerification,
} from "./client/payments.ts";
export type { PendingChange } from "./client/pending-changes.ts";
export type { PinLogin, PinLoginPurpose, PinProof, PinReset, PinResetStarted, PinStatus } from "./client/pin.ts";
export type { DeviceRecovery, RecoveredDevice } from "./client/recovery.ts";
export type { Payer, PayerSession, SignInPkce, SignInStart } from "./client/sessions.ts";
export { createSignInPkce, signInCodeFrom } from "./client/sessions.ts";

export type PayClientOptions = PayRequestOptions;

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

export class PayClient {
  readonly #core: PayRequester;
  /** Sign-in through the messenger, and the session's payer. */
  readonly sessions: Sessions;
  readonly devices: Devices;
  /** New devices, recoveries and PIN resets waiting to take effect. */
  readonly pendingChanges: PendingChanges;
  /** The payment PIN over OPAQUE, and its reset with the card. */
  readonly pin: Pin;
  /** The issuers, card enrollment, sealed records, removal. */
  readonly cards: Cards;
  /** A payment's approval challenge, approval and authorization. */
  readonly payments: Payments;
  readonly mandates: Mandates;
  readonly recovery: Recovery;
  readonly passkeys: Passkeys;

  constructor(options: PayClientOptions) {
    this.#core = new PayRequester(options);
    this.sessions = new Sessions(this.#core);
    this.devices = new Devices(this.#core);
    this.pendingChanges = new PendingChanges(this.#core);
    this.pin = new Pin(this.#core);
    this.cards = new Cards(this.#core);
    this.payments = new Payments(this.#core);
    this.mandates = new Mandates(this.#core);
    this.recovery = new Recovery(this.#core);
    this.passkeys = new Passkeys(this.#core);
  }

  get baseUrl(): string {
    return this.#core.baseUrl;
  }

  /** Uses `sessionToken` for the requests that follow; undefined signs this client out (locally). */
  useSession(sessionToken: string | undefined): void {
    this.#core.useSession(sessionToken);
  }

  get signedIn(): boolean {
    return this.#core.signedIn;
  }

  toJSON(): { baseUrl: string; signedIn: boolean } {
    return { baseUrl: this.baseUrl, signedIn: this.signedIn };
  }
  [INSPECT](): string {
    return `PayClient(${this.baseUrl}${this.signedIn ? ", signed in" : ""})`;
  }
}
