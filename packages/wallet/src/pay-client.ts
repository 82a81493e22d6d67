/**
 * The pay server's payer routes as a small typed client (issue 3, deliverable 6): what the wallet says to the pay
 * server for sign-in, devices, the PIN and payment approvals. One code base for browsers and Node: the global
 * `fetch`, nothing from `node:`. It holds one secret, the payer's session token (`Authorization: Bearer pst_…`),
 * in a private field, so it never shows in a log of the client object.
 *
 * Every answer is checked against the route's documented shape before the caller sees it (STYLE.md: validate at
 * the edges), so the terms a wallet shows are exactly the protocol's fields. An error answer becomes a
 * `PayApiError` with the server's `code`, message, HTTP status and request id, and never with the request.
 *
 * No automatic retries, unlike stripe-node: the payer routes take no Idempotency-Key, and some of them are not safe
 * to repeat — a PIN login start counts a try before the server answers, so a blind retry after a lost answer would
 * spend a second try. On `pay_server_unreachable` or `pay_server_timeout` the caller decides (and asks the payer).
 */
import {
  approvalChallengeViewSchema,
  cardViewSchema,
  mandateViewSchema,
  pendingChangeViewSchema,
  statementNonceViewSchema,
  Secret,
  type PendingChangeView,
  type PinLoginPurpose as ProtocolPinLoginPurpose,
  type PinProofInput,
  type ApprovalTerms,
  type MandateTerms,
  type SharedDetails,
  type ShareableDetail,
} from "@mpay/protocol";
import { z } from "zod";
import type { DevicePublicJwk } from "./device-key.ts";
import { PayApiError } from "./errors.ts";

const payerSchema = z.object({
  id: z.string(),
  object: z.literal("payer"),
  displayName: z.string(),
  phoneNumber: z.string().nullable(),
  createdAt: z.string(),
});
const sessionSchema = z.object({ object: z.literal("payer_session"), sessionToken: z.string(), expiresAt: z.string(), payer: payerSchema });
/** The wallet opens this URL, so it must be a web address (never `javascript:` or a custom scheme). */
const signInSchema = z.object({ authorizationUrl: z.url({ protocol: /^https?$/ }), state: z.string() });
const deviceSchema = z.object({
  id: z.string(),
  object: z.literal("device"),
  name: z.string(),
  /** The device key's RFC 7638 thumbprint: compare with `DeviceKey.kid` to find this device. */
  keyThumbprint: z.string(),
  status: z.enum(["pending", "active", "revoked", "canceled"]),
  /** When a pending device may start to pay (the end of its waiting period). */
  activatesAt: z.string(),
  /** `first-sign-in`, `device:<id>` of the device that approved it (with the PIN), or `issuer:<id>[+pin]` (a recovery). */
  approvedBy: z.string(),
  createdAt: z.string(),
});
const deviceListSchema = z.object({ object: z.literal("list"), data: z.array(deviceSchema), hasMore: z.boolean() });
const pinStatusSchema = z.object({ object: z.literal("pin"), set: z.boolean(), locked: z.boolean(), triesLeft: z.number().int() });
const registrationSchema = z.object({ registrationResponse: z.string() });
const pinLoginSchema = z.object({ loginId: z.string(), loginResponse: z.string(), triesLeft: z.number().int() });
const pinCheckSchema = z.object({ object: z.literal("pin_check"), verified: z.literal(true) });
const challengeSchema = approvalChallengeViewSchema;
const approvalSchema = z.object({
  id: z.string(),
  object: z.literal("payment_approval"),
  paymentId: z.string(),
  method: z.enum(["pin", "passkey"]),
  createdAt: z.string(),
});
const approvalWithReleaseSchema = approvalSchema.extend({ release: z.string() });
const issuerListSchema = z.object({ object: z.literal("list"), data: z.array(z.object({ issuerId: z.string(), name: z.string(), certificate: z.string() })), hasMore: z.boolean() });
const enrollmentSchema = z.object({ id: z.string(), object: z.literal("card_enrollment"), status: z.string(), codeSentTo: z.string(), expiresAt: z.string() });
const cardSchema = cardViewSchema;
const passkeySchema = z.object({ id: z.string(), object: z.literal("passkey"), publicKey: z.string(), status: z.enum(["active", "revoked"]), createdAt: z.string() });
const recoverySchema = z.object({ id: z.string(), object: z.literal("device_recovery"), status: z.string(), codeSentTo: z.string(), expiresAt: z.string() });
const recoveredSchema = z.object({ deviceId: z.string(), status: z.string(), activatesAt: z.string(), card: cardSchema, revokedDevices: z.array(z.string()) });
const pendingChangeListSchema = z.object({ object: z.literal("list"), data: z.array(pendingChangeViewSchema), hasMore: z.boolean() });
const pinResetSchema = z.object({
  id: z.string(),
  object: z.literal("pin_reset"),
  status: z.enum(["verification_required", "pending", "applied", "canceled"]),
  activatesAt: z.string().nullable(),
  requestedBy: z.string(),
});
const pinResetStartedSchema = z.object({ id: z.string(), object: z.literal("pin_reset"), status: z.literal("verification_required"), codeSentTo: z.string(), expiresAt: z.string(), reset: pinResetSchema });
const cardListSchema = z.object({ object: z.literal("list"), data: z.array(cardSchema), hasMore: z.boolean() });
const authorizedSchema = z.object({ id: z.string(), object: z.literal("payment"), status: z.string(), amount: z.number(), currency: z.string(), declineCode: z.string().nullable(), mandate: z.string().nullable() });
const mandateSchema = mandateViewSchema;
const errorSchema = z.object({
  error: z.object({ type: z.string(), code: z.string(), message: z.string(), param: z.string().optional(), requestId: z.string().optional() }),
});

export type Payer = z.infer<typeof payerSchema>;
export type Device = z.infer<typeof deviceSchema>;
export type DeviceStatus = Device["status"];
export type PinStatus = z.infer<typeof pinStatusSchema>;
export type PinLogin = z.infer<typeof pinLoginSchema>;
export type PaymentApproval = z.infer<typeof approvalSchema>;
/** The approval with the card released to this device for the payment (a JWE only this device's one-time key opens). */
export type ReleasedApproval = z.infer<typeof approvalWithReleaseSchema>;
export type IssuerListing = z.infer<typeof issuerListSchema>["data"][number];
export type CardEnrollment = z.infer<typeof enrollmentSchema>;
export type Card = z.infer<typeof cardSchema>;
/** The payment as the issuer decided it. */
export type PaymentOutcome = z.infer<typeof authorizedSchema>;
export type Mandate = z.infer<typeof mandateSchema>;
export type Passkey = z.infer<typeof passkeySchema>;
export type DeviceRecovery = z.infer<typeof recoverySchema>;
export type RecoveredDevice = z.infer<typeof recoveredSchema>;
/** A change waiting to take effect: a new device, a recovery or a PIN reset (cancel it with a PIN proof). */
export type PendingChange = PendingChangeView;
export type PinReset = z.infer<typeof pinResetSchema>;
export type PinResetStarted = z.infer<typeof pinResetStartedSchema>;
/** A finished OPAQUE login sent with a security change (see `Wallet`, which makes it from the PIN). */
export type PinProof = PinProofInput;
export interface SignInStart {
  /** Open this in the messenger (its login page); it sends the payer back to the pay server's callback. */
  readonly authorizationUrl: string;
  readonly state: string;
}
export interface PayerSession {
  /** `pst_…`: whoever holds it acts as the payer until `expiresAt`. Printed, it shows `[redacted]`. */
  readonly sessionToken: Secret<string>;
  readonly expiresAt: string;
  readonly payer: Payer;
}
export interface ApprovalChallenge {
  readonly id: string;
  /** The protocol's terms (checked against its schema): all a wallet may show, and exactly what it signs. */
  readonly terms: ApprovalTerms;
  /** A card-on-file mandate the merchant asks for with the payment, or null. */
  readonly mandate: MandateTerms | null;
  /** Personal details the merchant asks the payer to share for this payment. */
  readonly collect: readonly ShareableDetail[];
  readonly expiresAt: string;
}

/** What a PIN login is for (defined once in packages/protocol, as the pay server checks it). */
export type PinLoginPurpose = ProtocolPinLoginPurpose;

export type UserVerification =
  | { readonly method: "pin"; readonly loginId: string; readonly finishLoginRequest: string; readonly challengeMac: string }
  | { readonly method: "passkey"; readonly assertion: Record<string, unknown> };

export interface PayClientOptions {
  /** The pay server's origin, such as `https://pay.example` (a path prefix is kept). Plain http only on loopback. */
  baseUrl: string;
  /** A session kept from an earlier sign-in (`pst_…`). */
  sessionToken?: string;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
const SESSION_TOKEN_PATTERN = /^pst_[A-Za-z0-9_-]{43}$/;
const INSPECT = Symbol.for("nodejs.util.inspect.custom");

type Method = "GET" | "POST";

export class PayClient {
  readonly baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  #sessionToken: string | undefined;

  constructor(options: PayClientOptions) {
    this.baseUrl = checkedBaseUrl(options.baseUrl);
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.useSession(options.sessionToken);
  }

  /** Uses `sessionToken` for the requests that follow; undefined signs this client out (locally). */
  useSession(sessionToken: string | undefined): void {
    if (sessionToken !== undefined && !SESSION_TOKEN_PATTERN.test(sessionToken)) {
      throw new TypeError("a payer session token is `pst_` and 43 base64url characters, as finishSignIn returns it");
    }
    this.#sessionToken = sessionToken;
  }

  get signedIn(): boolean {
    return this.#sessionToken !== undefined;
  }

  // --- sign-in through the messenger (OpenID Connect code flow with PKCE, run by the pay server) ---

  /** The messenger's authorization URL for a new sign-in; the pay server keeps the PKCE verifier, state and nonce. */
  async startSignIn(): Promise<SignInStart> {
    return this.#request("POST", "/v1/payer/auth/start", signInSchema, {});
  }

  /**
   * Hands the messenger's redirect to the pay server, which redeems the code; on success this client uses the new
   * session. Takes the callback URL, its query string (with or without `?`), or its parameters.
   */
  async finishSignIn(callback: string | URL | URLSearchParams): Promise<PayerSession> {
    const answer = await this.#request("GET", `/v1/payer/auth/callback?${callbackQuery(callback)}`, sessionSchema);
    this.useSession(answer.sessionToken);
    return { sessionToken: new Secret(answer.sessionToken), expiresAt: answer.expiresAt, payer: answer.payer };
  }

  me(): Promise<Payer> {
    return this.#request("GET", "/v1/payer/me", payerSchema);
  }

  // --- devices ---

  /** A single-use nonce for the next device statement (every statement carries one; the server spends it). */
  async statementNonce(): Promise<string> {
    return (await this.#request("POST", "/v1/payer/statement-nonces", statementNonceViewSchema, {})).nonce;
  }

  /**
   * Binds a device key: the payer's first device with nothing more; any later one with an active device's
   * `bind-device` statement and a PIN proof for `bind-device:<kid>`.
   */
  bindDevice(input: { publicKeyJwk: DevicePublicJwk; name: string; approval?: string; pin?: PinProof }): Promise<Device> {
    const { kty, crv, x, y } = input.publicKeyJwk;
    return this.#request("POST", "/v1/payer/devices", deviceSchema, {
      publicKeyJwk: { kty, crv, x, y },
      name: input.name,
      ...(input.approval !== undefined ? { approval: input.approval } : {}),
      ...(input.pin !== undefined ? { pin: input.pin } : {}),
    });
  }

  async devices(): Promise<Device[]> {
    return (await this.#request("GET", "/v1/payer/devices", deviceListSchema)).data;
  }

  /** Changes waiting to take effect (new devices, recoveries, a PIN reset): every device should show them. */
  async pendingChanges(): Promise<PendingChange[]> {
    return (await this.#request("GET", "/v1/payer/pending-changes", pendingChangeListSchema)).data;
  }

  /** Cancels a pending change with a PIN proof for `cancel-device:<id>` or `cancel-pin-reset:<id>`; answers what still waits. */
  async cancelPendingChange(id: string, pin: PinProof): Promise<PendingChange[]> {
    return (await this.#request("POST", `/v1/payer/pending-changes/${segment(id)}/cancel`, pendingChangeListSchema, { pin })).data;
  }

  /**
   * `signature`: `{ purpose: "revoke-device", payerId, deviceId, nonce }` by the device itself, or by another active
   * device together with `pin`, a PIN proof for `revoke-device:<id>`.
   */
  revokeDevice(deviceId: string, input: { signature?: string; pin?: PinProof } = {}): Promise<Device> {
    return this.#request("POST", `/v1/payer/devices/${segment(deviceId)}/revoke`, deviceSchema, input);
  }

  /** Cancels a pending binding: with `pin` (a PIN proof for `cancel-device:<id>`) or the waiting device's own `signature`. */
  cancelPendingDevice(deviceId: string, input: { signature?: string; pin?: PinProof }): Promise<Device> {
    return this.#request("POST", `/v1/payer/devices/${segment(deviceId)}/cancel`, deviceSchema, input);
  }

  // --- payment PIN over OPAQUE: only OPAQUE messages travel, never the PIN ---

  pinStatus(): Promise<PinStatus> {
    return this.#request("GET", "/v1/payer/pin", pinStatusSchema);
  }

  /** The server's answer to an OPAQUE registration request (nothing is stored yet). */
  async pinRegistration(registrationRequest: string): Promise<string> {
    return (await this.#request("POST", "/v1/payer/pin/registration", registrationSchema, { registrationRequest })).registrationResponse;
  }

  /** Sets the first PIN; `deviceSignature` is `{ purpose: "set-pin", payerId }` signed by an active device. */
  setPin(input: { registrationRecord: string; deviceSignature: string }): Promise<PinStatus> {
    return this.#request("POST", "/v1/payer/pin", pinStatusSchema, { registrationRecord: input.registrationRecord, deviceSignature: input.deviceSignature });
  }

  /** Replaces the PIN: a finished `pin-change` login with the current PIN, and the new PIN's registration record. */
  changePin(input: { loginId: string; finishLoginRequest: string; registrationRecord: string }): Promise<PinStatus> {
    const { loginId, finishLoginRequest, registrationRecord } = input;
    return this.#request("POST", "/v1/payer/pin/change", pinStatusSchema, { loginId, finishLoginRequest, registrationRecord });
  }

  /** Starts a PIN login. The server counts a try before it answers; only a verified finish clears it. */
  pinLogin(input: { startLoginRequest: string; purpose: PinLoginPurpose; previousPin?: boolean }): Promise<PinLogin> {
    const { startLoginRequest, purpose, previousPin } = input;
    return this.#request("POST", "/v1/payer/pin/login", pinLoginSchema, { startLoginRequest, purpose, ...(previousPin ? { previousPin: true } : {}) });
  }

  /**
   * Asks for a PIN reset with the issuer's cardholder check: `enrollment` is a JWE of one of the payer's cards to its
   * issuer; `deviceSignature` is `{ purpose: "reset-pin", payerId, issuerId, recordHash, enrollmentHash, nonce }`.
   */
  startPinReset(input: { issuerId: string; enrollment: string; registrationRecord: string; deviceSignature: string }): Promise<PinResetStarted> {
    return this.#request("POST", "/v1/payer/pin/resets", pinResetStartedSchema, input);
  }

  /** The issuer's code for a PIN reset: it then waits the waiting period. */
  verifyPinReset(resetId: string, code: string): Promise<PinReset> {
    return this.#request("POST", `/v1/payer/pin/resets/${segment(resetId)}/verify`, pinResetSchema, { code });
  }

  /** Finishes a `pin-check` login (a payment's login is finished inside its approval instead). */
  async pinLoginFinish(input: { loginId: string; finishLoginRequest: string }): Promise<{ verified: true }> {
    await this.#request("POST", "/v1/payer/pin/login/finish", pinCheckSchema, { loginId: input.loginId, finishLoginRequest: input.finishLoginRequest });
    return { verified: true };
  }

  // --- payment approval ---

  /** The terms of `paymentId` for this device and the chosen card, fixed by the server for at most 5 minutes. */
  approvalChallenge(paymentId: string, input: { deviceKey: string; cardId: string }): Promise<ApprovalChallenge> {
    const { deviceKey, cardId } = input;
    return this.#request("POST", `/v1/payer/payments/${segment(paymentId)}/approval-challenges`, challengeSchema, { deviceKey, cardId });
  }

  /**
   * Sends the device's signature over the challenge's terms with fresh user verification bound to the challenge,
   * and the public half of a key made for this payment: the answer releases the card to it.
   */
  approve(challengeId: string, input: { deviceSignature: string; verification: UserVerification; releaseKey: JsonWebKey }): Promise<ReleasedApproval> {
    return this.#request("POST", `/v1/payer/approval-challenges/${segment(challengeId)}/approve`, approvalWithReleaseSchema, {
      deviceSignature: input.deviceSignature,
      verification: input.verification,
      releaseKey: input.releaseKey,
    });
  }

  /**
   * Sends the sign-then-encrypt JWE for the issuer (and the mandate's, when the payer agreed to one); answers with
   * the payment as the issuer decided it.
   */
  authorize(approvalId: string, payment: string, extras: { mandate?: string | undefined; sharedDetails?: SharedDetails | undefined } = {}): Promise<PaymentOutcome> {
    const { mandate, sharedDetails } = extras;
    return this.#request("POST", `/v1/payer/approvals/${segment(approvalId)}/authorize`, authorizedSchema, {
      payment,
      ...(mandate !== undefined ? { mandate } : {}),
      ...(sharedDetails !== undefined ? { sharedDetails } : {}),
    });
  }

  /** The payer's card-on-file mandates (merchants that may charge a card off-session). */
  async mandates(): Promise<Mandate[]> {
    return (await this.#request("GET", "/v1/payer/mandates", z.object({ object: z.literal("list"), data: z.array(mandateSchema), hasMore: z.boolean() }))).data;
  }

  revokeMandate(mandateId: string): Promise<Mandate> {
    return this.#request("POST", `/v1/payer/mandates/${segment(mandateId)}/revoke`, mandateSchema, {});
  }

  // --- passkeys ---

  /** WebAuthn creation options for a new passkey: the device's `add-passkey` statement and a finished PIN login. */
  passkeyRegistrationOptions(input: { deviceSignature: string; pin: { loginId: string; finishLoginRequest: string } }): Promise<Record<string, unknown>> {
    return this.#request("POST", "/v1/payer/passkeys/registration-options", z.record(z.string(), z.unknown()), input);
  }

  /** Registers what the authenticator made from those options; answers the passkey with its public key. */
  registerPasskey(response: Record<string, unknown>): Promise<Passkey> {
    return this.#request("POST", "/v1/payer/passkeys", passkeySchema, { response });
  }

  // --- cards ---

  /** The issuers with their network certificates (unverified here: the wallet verifies them before any use). */
  async issuers(): Promise<IssuerListing[]> {
    return (await this.#request("GET", "/v1/payer/issuers", issuerListSchema)).data;
  }

  startCardEnrollment(input: { issuerId: string; enrollment: string; deviceSignature: string }): Promise<CardEnrollment> {
    return this.#request("POST", "/v1/payer/cards/enrollments", enrollmentSchema, input);
  }

  verifyCardEnrollment(enrollmentId: string, code: string): Promise<Card> {
    return this.#request("POST", `/v1/payer/cards/enrollments/${segment(enrollmentId)}/verify`, cardSchema, { code });
  }

  /** Recovery of a payer who lost every device: this (unbound) device proves one of the payer's cards again. */
  startRecovery(input: { issuerId: string; enrollment: string; publicKeyJwk: DevicePublicJwk; name: string }): Promise<DeviceRecovery> {
    return this.#request("POST", "/v1/payer/recoveries", recoverySchema, input);
  }

  /** The issuer's code; with `pin` (a proof for `recovery:<id>`) the device is active at once and may revoke the others. */
  verifyRecovery(recoveryId: string, input: { code: string; pin?: PinProof; revokeOtherDevices?: boolean }): Promise<RecoveredDevice> {
    return this.#request("POST", `/v1/payer/recoveries/${segment(recoveryId)}/verify`, recoveredSchema, input);
  }

  storeCardRecords(cardId: string, input: { sealedCard: string; sealedProfile?: string; recordVersion: number; kSrv: string; deviceSignature: string }): Promise<Card> {
    return this.#request("POST", `/v1/payer/cards/${segment(cardId)}/records`, cardSchema, input);
  }

  async cards(): Promise<Card[]> {
    return (await this.#request("GET", "/v1/payer/cards", cardListSchema)).data;
  }

  removeCard(cardId: string, deviceSignature: string): Promise<Card> {
    return this.#request("POST", `/v1/payer/cards/${segment(cardId)}/remove`, cardSchema, { deviceSignature });
  }

  toJSON(): { baseUrl: string; signedIn: boolean } {
    return { baseUrl: this.baseUrl, signedIn: this.signedIn };
  }
  [INSPECT](): string {
    return `PayClient(${this.baseUrl}${this.signedIn ? ", signed in" : ""})`;
  }

  async #request<S extends z.ZodType>(method: Method, path: string, schema: S, body?: unknown): Promise<z.infer<S>> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#sessionToken !== undefined) headers["authorization"] = `Bearer ${this.#sessionToken}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.#fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        // The session is a bearer token: no cookie is needed, and none is sent to be confused with it.
        credentials: "omit",
        cache: "no-store",
        // A payer route never redirects; a redirect is answered as an invalid answer, not followed with the token.
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      // No cause attached: the fetch implementation saw the request, body and token included.
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      throw new PayApiError(
        timedOut
          ? { type: "connection_error", code: "pay_server_timeout", message: `the pay server at ${this.baseUrl} did not answer ${method} ${routeOf(path)} within ${this.#timeoutMs} ms` }
          : { type: "connection_error", code: "pay_server_unreachable", message: `the pay server at ${this.baseUrl} cannot be reached${networkCode(error)}` },
      );
    }
    const requestId = response.headers.get("request-id") ?? undefined;
    const json = await readJson(response);
    if (!response.ok) {
      const parsed = errorSchema.safeParse(json);
      if (parsed.success) {
        const { type, code, message, param } = parsed.data.error;
        throw new PayApiError({ type, code, message, statusCode: response.status, requestId: parsed.data.error.requestId ?? requestId, param });
      }
      throw invalidAnswer(response.status, requestId, `${method} ${routeOf(path)} failed with HTTP ${response.status || "redirect"} and no MPay error body (a proxy in between?)`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      // The paths of what did not match, never the values: a sign-in answer holds the session token.
      const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.map(String).join(".") || "(body)"))].slice(0, 5).join(", ");
      throw invalidAnswer(response.status, requestId, `the answer to ${method} ${routeOf(path)} does not have the documented shape (${fields})`);
    }
    return parsed.data;
  }
}

function checkedBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError("baseUrl is the pay server's absolute URL, such as https://pay.example");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new TypeError("baseUrl must be https (plain http only for a pay server on this machine): the session token is a bearer secret");
  }
  if (url.search || url.hash || url.username || url.password) throw new TypeError("baseUrl has no query, fragment or credentials");
  return url.href.replace(/\/+$/, "");
}

function callbackQuery(callback: string | URL | URLSearchParams): string {
  if (callback instanceof URLSearchParams) return callback.toString();
  if (callback instanceof URL) return callback.search.slice(1);
  if (/^https?:\/\//i.test(callback)) return new URL(callback).search.slice(1);
  return callback.replace(/^\?/, "");
}

/** A path segment from an id: encoded, so that an id can never name another route. */
function segment(id: string): string {
  if (typeof id !== "string" || id === "") throw new TypeError("an MPay id is a non-empty string");
  return encodeURIComponent(id);
}

/** The route without its query (a sign-in callback's query holds the authorization code). */
function routeOf(path: string): string {
  return path.split("?")[0] ?? path;
}

function networkCode(error: unknown): string {
  const cause = error instanceof Error ? (error as { cause?: unknown }).cause : undefined;
  const code = typeof cause === "object" && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === "string" && /^[A-Z_]{2,40}$/.test(code) ? ` (${code})` : "";
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return JSON.parse(await response.text()) as unknown;
  } catch {
    return undefined;
  }
}

function invalidAnswer(status: number, requestId: string | undefined, message: string): PayApiError {
  return new PayApiError({ type: "api_error", code: "pay_server_answer_invalid", message, statusCode: status || undefined, requestId });
}
