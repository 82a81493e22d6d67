/**
 * What every part of the `Wallet` shares (wallet.ts composes the parts): this device's key in its key store, the
 * pay client, the signed-in payer, the clock, and the two proofs the parts build on — the device's word
 * (`sign`, with a single-use nonce from the server, so no statement can be replayed) and the PIN over OPAQUE
 * (`pinLogin`, `pinProof`). Internal to the wallet SDK: not exported from `@mpay/wallet`.
 */
import type { NetworkRoot } from "@mpay/crypto";
import { base64url } from "jose";
import {
  createDeviceKey,
  loadDeviceKey,
  signStatement,
  DEVICE_KEY_RECORD,
  type DeviceKey,
  type DeviceStatement,
} from "../device-key.ts";
import { WalletError } from "../errors.ts";
import type { KeyStore } from "../key-store.ts";
import type { Payer, PayClient, PinLoginPurpose, PinProof } from "../pay-client.ts";
import {
  DEFAULT_PIN_KEY_STRETCHING,
  assertPinFormat,
  finishPinLogin,
  finishPinRegistration,
  startPinLogin,
  startPinRegistration,
  type PinKeyStretching,
  type PinLoginFinish,
} from "../pin.ts";
import { wipe } from "../secrets.ts";
import { trustedRootsOf } from "../trusted-roots.ts";

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
   * roots; `npm start` its demo root; tests the roots of `@mpay/testing/network-roots`.
   */
  trustedRoots: readonly NetworkRoot[];
  /**
   * The wallet's clock (statement and enrollment times, the terms' window, certificates' validity); default the
   * device's. Drills move it with the servers' clocks (issue 7: time moves, nothing waits).
   */
  now?: () => Date;
}

export class WalletCore {
  readonly store: KeyStore;
  readonly client: PayClient;
  readonly roots: readonly NetworkRoot[];
  readonly #keyStretching: PinKeyStretching;
  readonly #deviceKeyRecord: string;
  readonly #now: () => Date;
  #deviceKey: Promise<DeviceKey> | undefined;
  #payer: Payer | undefined;

  constructor(options: WalletOptions) {
    this.store = options.keyStore;
    this.client = options.client;
    this.#keyStretching = options.keyStretching ?? DEFAULT_PIN_KEY_STRETCHING;
    this.#deviceKeyRecord = options.deviceKeyRecord ?? DEVICE_KEY_RECORD;
    this.roots = trustedRootsOf(options.trustedRoots);
    this.#now = options.now ?? (() => new Date());
  }

  /** The signed-in payer (asked once per session). */
  async payer(): Promise<Payer> {
    this.#payer ??= await this.client.sessions.payer();
    return this.#payer;
  }

  /** Remembers the payer a sign-in answered, or forgets it (undefined) at sign-out. */
  usePayer(payer: Payer | undefined): void {
    this.#payer = payer;
  }

  /** This device's key: loaded from the key store, or made there (ECDSA P-256, non-extractable in use) on first call. */
  ensureDeviceKey(): Promise<DeviceKey> {
    this.#deviceKey ??= (async () =>
      (await loadDeviceKey(this.store, this.#deviceKeyRecord)) ?? createDeviceKey(this.store, this.#deviceKeyRecord))();
    this.#deviceKey.catch(() => (this.#deviceKey = undefined));
    return this.#deviceKey;
  }

  /** This device's key as stored, or undefined when it was never made (nothing is made here). */
  loadDeviceKey(): Promise<DeviceKey | undefined> {
    return loadDeviceKey(this.store, this.#deviceKeyRecord);
  }

  async requireDeviceKey(): Promise<DeviceKey> {
    if (this.#deviceKey !== undefined) return this.#deviceKey;
    const key = await this.loadDeviceKey();
    if (key === undefined)
      throw new WalletError("device_key_missing", "this device has no device key yet: bind it first (bindThisDevice)");
    this.#deviceKey ??= Promise.resolve(key);
    return key;
  }

  /** The device's word on `statement`, with a fresh single-use nonce from the server (no statement is good twice). */
  async sign(statement: DeviceStatement): Promise<string> {
    const key = await this.requireDeviceKey();
    const nonce = await this.client.devices.statementNonce();
    return signStatement(key.privateKey, key.kid, Object.assign({ nonce }, statement), {
      nowSeconds: this.nowSeconds(),
    });
  }

  nowSeconds(): number {
    return Math.floor(this.#now().getTime() / 1000);
  }

  /** A PIN proof for one security change: the login's finish, its session key wiped at once. */
  async pinProof(pin: string, purpose: PinLoginPurpose, options: { previousPin?: boolean } = {}): Promise<PinProof> {
    assertPinFormat(pin);
    const login = await this.pinLogin(pin, purpose, options);
    wipe(login.finished.sessionKey);
    return { loginId: login.loginId, finishLoginRequest: login.finished.finishLoginRequest };
  }

  async pinRegistrationRecord(pin: string): Promise<string> {
    const start = await startPinRegistration(pin, { keyStretching: this.#keyStretching });
    const registrationResponse = await this.client.pin.registration(start.registrationRequest);
    return (await finishPinRegistration(start.state, registrationResponse)).registrationRecord;
  }

  /**
   * A PIN login up to the finish request, which the caller sends with what it is for. The server counts the try
   * when the start arrives; a wrong PIN shows here (OPAQUE cannot finish) and is reported with the tries left.
   */
  async pinLogin(
    pin: string,
    purpose: PinLoginPurpose,
    options: { previousPin?: boolean } = {},
  ): Promise<{ loginId: string; finished: PinLoginFinish }> {
    const start = await startPinLogin(pin, { keyStretching: this.#keyStretching });
    const answer = await this.client.pin.startLogin({
      startLoginRequest: start.startLoginRequest,
      purpose,
      ...(options.previousPin ? { previousPin: true } : {}),
    });
    try {
      return { loginId: answer.loginId, finished: await finishPinLogin(start.state, answer.loginResponse) };
    } catch (error) {
      if (!(error instanceof WalletError) || error.code !== "pin_incorrect") throw error;
      const left = answer.triesLeft;
      throw new WalletError(
        "pin_incorrect",
        left > 0
          ? `the PIN is not correct; ${left} ${left === 1 ? "try" : "tries"} left before it locks`
          : "the PIN is not correct, and it is now locked",
      );
    }
  }
}

/** base64url of the SHA-256 of `text` (WebCrypto): how statements name the JWE or record they cover. */
export async function sha256Base64url(text: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}
