/**
 * The wallet's side of the payment PIN over OPAQUE (RFC 9807, `@serenity-kit/opaque`; DESIGN.md "Authentication
 * without plugins" → PIN; issue 3, deliverable 3). The pay server never receives the PIN nor anything that lets it
 * test guesses without its own OPRF key.
 *
 * Flow: `startPinRegistration` → server → `finishPinRegistration` → server stores the record. For a payment:
 * `startPinLogin` → server (a try is counted here) → `finishPinLogin` → the wallet sends the finish request with
 * `pinChallengeMac(sessionKey, challengeId, terms)`, which binds this PIN success to one payment's terms.
 * A wrong PIN is known on the device at `finishPinLogin` (OPAQUE cannot complete), so no finish request exists to
 * send; the server has already counted the try.
 *
 * Key stretching (Argon2id on the device, inside OPAQUE) is part of what the server's record was made with: the
 * registration and every later login must use the same setting, or the login fails exactly like a wrong PIN and
 * spends a try. Choose it once per deployment. Measured on Node 20 with @serenity-kit/opaque 1.1 (one
 * `finishPinRegistration` or `finishPinLogin` call; a 2-core test box):
 * - "memory-constrained" (the default): Argon2id t=3, p=4, m=64 MiB (RFC 9106's second recommended choice). About
 *   0.2–0.4 s and 64 MiB per call: what a phone's web view inside a messenger can afford. The stretching only
 *   slows down someone who already holds both the server's records and its OPRF key (kept by the key provider),
 *   and a 6-digit PIN is guarded first by the server's five-try lock, so the heavier setting buys little here.
 * - "rfc-recommended": Argon2id t=1, p=4, m=2 GiB−1 KiB (RFC 9807's configuration). About 2–6 s and 2 GiB of WASM
 *   memory per call (the library's notes give ~13 s on an M1 laptop): a web view may not even get the memory.
 * The calls are synchronous WASM: in a browser, run them in a Worker so the page does not freeze.
 *
 * The PIN is a JavaScript string (the library takes strings), which cannot be wiped (see secrets.ts); it is held
 * only inside the one-use state objects below and dropped when the flow finishes.
 */
import { canonicalTerms, pinApprovalMessage, type ApprovalTerms } from "@mpay/protocol";
import * as opaque from "@serenity-kit/opaque";
import { base64url } from "jose";
import { arrayBufferBytes } from "./bytes.ts";
import { WalletError } from "./errors.ts";
import { wipe } from "./secrets.ts";

export type PinKeyStretching =
  | "rfc-recommended"
  | "memory-constrained"
  | {
      readonly "argon2id-custom": {
        readonly iterations: number;
        readonly memory: number;
        readonly parallelism: number;
      };
    };

export const DEFAULT_PIN_KEY_STRETCHING: PinKeyStretching = "memory-constrained";

export interface PinOptions {
  /** Must be the same at registration and at every login; see the module comment. */
  keyStretching?: PinKeyStretching;
}

const PIN_PATTERN = /^[0-9]{6}$/;

/** Throws `pin_format_invalid` unless `pin` is exactly 6 ASCII digits. The message never repeats the input. */
export function assertPinFormat(pin: unknown): asserts pin is string {
  if (typeof pin !== "string" || !PIN_PATTERN.test(pin)) {
    throw new WalletError("pin_format_invalid", "the payment PIN is exactly 6 digits 0-9");
  }
}

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/**
 * What the device keeps between the two steps of a registration or a login: the PIN and OPAQUE's client state.
 * Used once: finishing takes them out. It prints as `[redacted]` (JSON, inspect, String).
 */
class PinFlowState {
  #secrets: { pin: string; clientState: string } | undefined;
  readonly keyStretching: PinKeyStretching;

  constructor(pin: string, clientState: string, keyStretching: PinKeyStretching) {
    this.#secrets = { pin, clientState };
    this.keyStretching = keyStretching;
  }

  /** The PIN and client state, once; afterwards `pin_state_used`. */
  take(): { pin: string; clientState: string } {
    const secrets = this.#secrets;
    if (secrets === undefined)
      throw new WalletError("pin_state_used", "this PIN step was already finished; start again");
    this.#secrets = undefined;
    return secrets;
  }

  toJSON(): string {
    return "[redacted]";
  }
  toString(): string {
    return "[redacted]";
  }
  [INSPECT](): string {
    return "PinFlowState([redacted])";
  }
}

/** Between `startPinRegistration` and `finishPinRegistration`. */
export class PinRegistrationState extends PinFlowState {
  readonly step = "registration";
}
/** Between `startPinLogin` and `finishPinLogin`. */
export class PinLoginState extends PinFlowState {
  readonly step = "login";
}

export interface PinRegistrationStart {
  /** To the pay server. */
  readonly registrationRequest: string;
  readonly state: PinRegistrationState;
}

export interface PinRegistrationFinish {
  /** To the pay server, which stores it as the payer's PIN record. */
  readonly registrationRecord: string;
}

export interface PinLoginStart {
  /** To the pay server; it counts a try when it receives this. */
  readonly startLoginRequest: string;
  readonly state: PinLoginState;
}

export interface PinLoginFinish {
  /** To the pay server, with `pinChallengeMac(sessionKey, …)`. */
  readonly finishLoginRequest: string;
  /** The OPAQUE session key (64 bytes), equal to the server's. Wipe it (`wipe`) once the MAC is made. */
  readonly sessionKey: Uint8Array;
}

export async function startPinRegistration(pin: string, options: PinOptions = {}): Promise<PinRegistrationStart> {
  assertPinFormat(pin);
  await opaque.ready;
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password: pin });
  return {
    registrationRequest,
    state: new PinRegistrationState(pin, clientRegistrationState, keyStretchingOf(options)),
  };
}

export async function finishPinRegistration(
  state: PinRegistrationState,
  registrationResponse: string,
): Promise<PinRegistrationFinish> {
  if (!(state instanceof PinRegistrationState))
    throw new TypeError("finishPinRegistration takes the state from startPinRegistration");
  const { pin, clientState } = state.take();
  await opaque.ready;
  const { registrationRecord } = callOpaque(() =>
    opaque.client.finishRegistration({
      password: pin,
      clientRegistrationState: clientState,
      registrationResponse,
      keyStretching: state.keyStretching,
    }),
  );
  return { registrationRecord };
}

export async function startPinLogin(pin: string, options: PinOptions = {}): Promise<PinLoginStart> {
  assertPinFormat(pin);
  await opaque.ready;
  const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password: pin });
  return { startLoginRequest, state: new PinLoginState(pin, clientLoginState, keyStretchingOf(options)) };
}

/**
 * Completes the login with the server's response. A wrong PIN (or a record made with another key stretching, or a
 * server that does not hold this payer's record) gives `pin_incorrect`: OPAQUE cannot tell these apart, by design.
 */
export async function finishPinLogin(state: PinLoginState, loginResponse: string): Promise<PinLoginFinish> {
  if (!(state instanceof PinLoginState)) throw new TypeError("finishPinLogin takes the state from startPinLogin");
  const { pin, clientState } = state.take();
  await opaque.ready;
  const result = callOpaque(() =>
    opaque.client.finishLogin({
      password: pin,
      clientLoginState: clientState,
      loginResponse,
      keyStretching: state.keyStretching,
    }),
  );
  if (result === undefined) throw new WalletError("pin_incorrect", "the PIN is not correct");
  return { finishLoginRequest: result.finishLoginRequest, sessionKey: base64url.decode(result.sessionKey) };
}

const CHALLENGE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * The bytes the PIN challenge MAC covers: `mpay/v1|pin-approval|<challengeId>|<base64url SHA-256 of the canonical
 * terms>`. The challenge id may not contain `|`, so no two (id, terms) pairs give the same message.
 */
export async function pinChallengeMessage(challengeId: string, terms: ApprovalTerms): Promise<Uint8Array<ArrayBuffer>> {
  if (typeof challengeId !== "string" || !CHALLENGE_ID_PATTERN.test(challengeId)) {
    throw new WalletError("challenge_id_invalid", "a challenge id is 1-128 characters of A-Z a-z 0-9 _ -");
  }
  return new TextEncoder().encode(pinApprovalMessage(challengeId, await termsHashOf(terms)));
}

/**
 * base64url SHA-256 of the canonical terms: what a PIN approval's MAC names, and the WebAuthn challenge of a passkey
 * approval (so the assertion covers exactly these terms, for the pay server and the issuer alike).
 */
export async function termsHashOf(terms: ApprovalTerms): Promise<string> {
  return base64url.encode(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalTerms(terms)))),
  );
}

/**
 * HMAC-SHA256 under the OPAQUE session key over `pinChallengeMessage(challengeId, terms)`, base64url. The server
 * computes the same with its session key (the library's base64url `sessionKey`, decoded to its 64 bytes), so a PIN
 * success counts for this challenge and these terms only.
 */
export async function pinChallengeMac(
  sessionKey: Uint8Array,
  challengeId: string,
  terms: ApprovalTerms,
): Promise<string> {
  const message = await pinChallengeMessage(challengeId, terms);
  const mac = await crypto.subtle.sign("HMAC", await macKey(sessionKey, "sign"), message);
  return base64url.encode(new Uint8Array(mac));
}

/** Checks a PIN challenge MAC in constant time (WebCrypto `verify`); for the server and for tests. */
export async function verifyPinChallengeMac(
  sessionKey: Uint8Array,
  challengeId: string,
  terms: ApprovalTerms,
  mac: string,
): Promise<boolean> {
  let macBytes: Uint8Array<ArrayBuffer>;
  try {
    macBytes = arrayBufferBytes(base64url.decode(mac));
  } catch {
    return false;
  }
  const message = await pinChallengeMessage(challengeId, terms);
  return crypto.subtle.verify("HMAC", await macKey(sessionKey, "verify"), macBytes, message);
}

async function macKey(sessionKey: Uint8Array, usage: "sign" | "verify"): Promise<CryptoKey> {
  if (!(sessionKey instanceof Uint8Array) || sessionKey.length < 32) {
    throw new TypeError("the session key is the OPAQUE session key's bytes (64 bytes), not its base64url text");
  }
  const keyBytes = arrayBufferBytes(sessionKey);
  try {
    return await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, [usage]);
  } finally {
    if (keyBytes !== sessionKey) wipe(keyBytes);
  }
}

function keyStretchingOf(options: PinOptions): PinKeyStretching {
  return options.keyStretching ?? DEFAULT_PIN_KEY_STRETCHING;
}

/**
 * Runs a library step; a malformed server message makes it throw, and that error is replaced by ours without a
 * cause (the library's text quotes parts of the message it could not decode).
 */
function callOpaque<T>(step: () => T): T {
  try {
    return step();
  } catch {
    throw new WalletError("opaque_message_invalid", "the pay server's OPAQUE message is malformed");
  }
}
