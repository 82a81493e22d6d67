/** The payment PIN over OPAQUE (only OPAQUE messages travel, never the PIN), and its reset with the card. */
import {
  pinCheckViewSchema,
  pinLoginViewSchema,
  pinRegistrationViewSchema,
  pinResetStartedViewSchema,
  pinResetViewSchema,
  pinStatusViewSchema,
  type ChangePinRequest,
  type PinLoginFinishRequest,
  type PinLoginPurpose,
  type PinLoginView,
  type PinProofInput,
  type PinResetRequest,
  type PinResetStartedView,
  type PinResetView,
  type PinStatusView,
  type SetPinRequest,
} from "@mpay/protocol";
import { segment, type PayRequester } from "./request.ts";

export type PinStatus = PinStatusView;
export type PinLogin = PinLoginView;
export type PinReset = PinResetView;
export type PinResetStarted = PinResetStartedView;
/** A finished OPAQUE login sent with a security change (see `Wallet`, which makes it from the PIN). */
export type PinProof = PinProofInput;
export type { PinLoginPurpose };

export class Pin {
  readonly #core: PayRequester;

  constructor(core: PayRequester) {
    this.#core = core;
  }

  status(): Promise<PinStatus> {
    return this.#core.request("GET", "/v1/payer/pin", pinStatusViewSchema);
  }

  /** The server's answer to an OPAQUE registration request (nothing is stored yet). */
  async registration(registrationRequest: string): Promise<string> {
    return (
      await this.#core.request("POST", "/v1/payer/pin/registration", pinRegistrationViewSchema, { registrationRequest })
    ).registrationResponse;
  }

  /** Sets the first PIN; `deviceSignature` is `{ purpose: "set-pin", payerId }` signed by an active device. */
  set(input: SetPinRequest): Promise<PinStatus> {
    return this.#core.request("POST", "/v1/payer/pin", pinStatusViewSchema, {
      registrationRecord: input.registrationRecord,
      deviceSignature: input.deviceSignature,
    });
  }

  /** Replaces the PIN: a finished `pin-change` login with the current PIN, and the new PIN's registration record. */
  change(input: ChangePinRequest): Promise<PinStatus> {
    const { loginId, finishLoginRequest, registrationRecord } = input;
    return this.#core.request("POST", "/v1/payer/pin/change", pinStatusViewSchema, {
      loginId,
      finishLoginRequest,
      registrationRecord,
    });
  }

  /** Starts a PIN login. The server counts a try before it answers; only a verified finish clears it. */
  startLogin(input: { startLoginRequest: string; purpose: PinLoginPurpose; previousPin?: boolean }): Promise<PinLogin> {
    const { startLoginRequest, purpose, previousPin } = input;
    return this.#core.request("POST", "/v1/payer/pin/login", pinLoginViewSchema, {
      startLoginRequest,
      purpose,
      ...(previousPin ? { previousPin: true } : {}),
    });
  }

  /** Finishes a `pin-check` login (a payment's login is finished inside its approval instead). */
  async finishLogin(input: PinLoginFinishRequest): Promise<{ verified: true }> {
    await this.#core.request("POST", "/v1/payer/pin/login/finish", pinCheckViewSchema, {
      loginId: input.loginId,
      finishLoginRequest: input.finishLoginRequest,
    });
    return { verified: true };
  }

  /**
   * Asks for a PIN reset with the issuer's cardholder check: `enrollment` is a JWE of one of the payer's cards to its
   * issuer; `deviceSignature` is `{ purpose: "reset-pin", payerId, issuerId, recordHash, enrollmentHash, nonce }`.
   */
  startReset(input: PinResetRequest): Promise<PinResetStarted> {
    return this.#core.request("POST", "/v1/payer/pin/resets", pinResetStartedViewSchema, input);
  }

  /** The issuer's code for a PIN reset: it then waits the waiting period. */
  verifyReset(resetId: string, code: string): Promise<PinReset> {
    return this.#core.request("POST", `/v1/payer/pin/resets/${segment(resetId)}/verify`, pinResetViewSchema, { code });
  }
}
