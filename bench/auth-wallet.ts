/**
 * The synthetic payers' wallet of the `auth` and `pay` benchmarks: what a payer's device sends to the pay server,
 * over real HTTP, made with the wallet SDK's own code (its P-256 device key and signatures, the PIN's OPAQUE client,
 * the PIN challenge MAC, the card's sealing), as services/pay/src/testing/payer-device.ts does through Fastify's
 * inject. What the `pay` scenario adds after the approval (opening the release, the issuer's JWE, authorization)
 * is in bench/pay-wallet.ts.
 *
 * Two differences, on purpose, both so that the phones simulated on the servers' cores steal as little CPU as they
 * can (issue 11):
 * - OPAQUE's client-side key stretching (Argon2id inside `finishPinRegistration` and `finishPinLogin`) runs with the
 *   smallest setting the library accepts (@serenity-kit/opaque 1.1 offers "rfc-recommended",
 *   "rfc-draft-recommended", "memory-constrained" or custom Argon2id, and Argon2 itself needs m ≥ 8 KiB, t ≥ 1).
 *   It runs on the payer's phone, not on the server, and costs 0.2–0.4 s of CPU per call with the wallet's
 *   default; the server never learns the setting and does the same work with any (issue 3: "Synthetic payers may
 *   skip OPAQUE's client-side key stretching"). The server is not changed.
 * - In the timed path the device signs, MACs and makes its one-time key with node:crypto (bench/device-crypto.ts),
 *   its key a KeyObject parsed once, rather than with the SDK's jose/WebCrypto calls; the bytes on the wire are the
 *   same kind (ES256 JWS, JWK), verified by the servers as ever. Setup (binding, PIN, card enrollment) keeps the
 *   SDK's own code.
 */
import { generateKeyPair } from "jose";
import {
  deviceKeyId,
  exportDevicePublicJwk,
  type DevicePublicJwk,
  finishPinLogin,
  finishPinRegistration,
  sealNewCard,
  signStatement,
  startPinLogin,
  startPinRegistration,
  wipe,
  type CardDetails,
  type PinKeyStretching,
} from "@mpay/wallet";
import { canonicalTerms, type ApprovalTerms } from "@mpay/protocol";
import type { Pool } from "undici";
import { performance } from "node:perf_hooks";
import { KeyObject } from "node:crypto";
import { createHash } from "node:crypto";
import { oneTimeKey, pinChallengeMacFast, signTermsFast } from "./device-crypto.ts";
import type { SoftAuthenticator } from "./webauthn-authenticator.ts";

/** Argon2id with 1 pass over 8 KiB (the library refuses less memory): the cheapest stretching that still runs. */
export const BENCH_KEY_STRETCHING: PinKeyStretching = {
  "argon2id-custom": { iterations: 1, memory: 8, parallelism: 1 },
};
/** Every synthetic payer's PIN (only OPAQUE messages made from it reach the server). */
const PIN = "481516";
/** The card each synthetic payer of `auth` holds (made on its device, as the wallet makes one after enrollment). */
const BENCH_CARD: CardDetails = { pan: "4111000000000016", expiry: "12/31", cvc: "806" };

/** A payer signed in by the bench process (its session token) whose device this wallet is. */
export interface BenchPayer {
  payerId: string;
  sessionToken: string;
}

export interface Wallet {
  payerId: string;
  authorization: string;
  kid: string;
  /** The device key as the SDK holds it (setup's statements). */
  privateKey: CryptoKey;
  /** The same key as a node:crypto KeyObject, parsed once (the timed path's signatures). */
  signingKey: KeyObject;
  publicJwk: DevicePublicJwk;
  /** The vault card on this device, once `storeCard` ran. */
  card?: WalletCard;
  /** The payer's passkey, once registered (bench/pay-passkey.ts): approvals may use it instead of the PIN. */
  passkey?: SoftAuthenticator;
}

/**
 * A card as this device keeps it: which vault row, and the device's share of the card's key (K_dev). A phone keeps
 * K_dev wrapped in its key store and unwraps a copy per payment; the synthetic wallet keeps it in memory.
 */
export interface WalletCard {
  cardId: string;
  deviceId: string;
  recordVersion: number;
  kDev: Uint8Array;
}

/** A card row the bench made in the vault for a payer's device (the issuer's enrollment is not what is measured). */
export interface BenchCard {
  payerId: string;
  cardId: string;
  deviceId: string;
}

/** The requests of a login, an approval and a payment, as the reports name them. */
export type RequestKind = "login-start" | "login-finish" | "challenge" | "approve" | "authorize";

/**
 * The wallet's own work between requests (it runs on the phone): signing the terms and starting the OPAQUE login;
 * OPAQUE's finish, the challenge MAC and the one-time release key; opening the release and building the issuer's
 * JWE (bench/pay-wallet.ts).
 */
export type DeviceStep = "device-prepare" | "device-opaque-finish" | "device-passkey" | "device-jwe";

/**
 * Where a wallet's requests are reported: each answer's kind, status ("error" for a transport failure), time and,
 * when it failed, its body. Returns whether the answer was a 2xx.
 */
export type RequestLog = (kind: RequestKind, status: number | "error", ms: number, failedBody: string) => boolean;

/** Where the wallet's own work is reported, step by step (a step may be reported more than once per operation). */
export type DeviceLog = (step: DeviceStep, ms: number) => void;

/** Runs device-side work and reports its time under `step`. */
export async function onDevice<T>(device: DeviceLog | undefined, step: DeviceStep, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    device?.(step, performance.now() - t0);
  }
}

/** POSTs JSON and reads the whole answer (so the connection can be reused); throws nothing. */
async function post(
  pool: Pool,
  path: string,
  authorization: string,
  body: unknown,
): Promise<{ status: number | "error"; text: string; ms: number }> {
  const t0 = performance.now();
  try {
    const response = await pool.request({
      path,
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.body.text();
    return { status: response.statusCode, text, ms: performance.now() - t0 };
  } catch (error) {
    return {
      status: "error",
      text: error instanceof Error ? error.message : String(error),
      ms: performance.now() - t0,
    };
  }
}

/** A request whose failure ends the flow: logs it, and returns the parsed answer only on a 2xx. */
export async function step<T>(
  pool: Pool,
  log: RequestLog,
  kind: RequestKind,
  path: string,
  authorization: string,
  body: unknown,
): Promise<T | null> {
  const answer = await post(pool, path, authorization, body);
  const ok = log(kind, answer.status, answer.ms, answer.text);
  return ok ? (JSON.parse(answer.text) as T) : null;
}

/** A setup request (not timed) that must succeed: answers the parsed body, or throws with the answer. */
export async function setupPost<T>(pool: Pool, path: string, authorization: string, body: unknown): Promise<T> {
  const answer = await post(pool, path, authorization, body);
  if (answer.status !== 200 && answer.status !== 201)
    throw new Error(`setup: POST ${path} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
  return JSON.parse(answer.text) as T;
}

/** A device statement with a fresh single-use nonce from the pay server (setup, not timed), as the Wallet signs one. */
export async function signWithNonce(
  pool: Pool,
  authorization: string,
  privateKey: CryptoKey,
  kid: string,
  statement: { purpose: string } & Record<string, string>,
): Promise<string> {
  const { nonce } = await setupPost<{ nonce: string }>(pool, "/v1/payer/statement-nonces", authorization, {});
  return signStatement(privateKey, kid, { ...statement, nonce });
}

/** Makes the device key, binds it as the payer's first device and sets the PIN, through the HTTP routes. */
export async function enroll(pool: Pool, payer: BenchPayer): Promise<Wallet> {
  const authorization = `Bearer ${payer.sessionToken}`;
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const publicKeyJwk = await exportDevicePublicJwk(publicKey);
  const kid = await deviceKeyId(publicKeyJwk);
  const must = <T>(path: string, body: unknown) => setupPost<T>(pool, path, authorization, body);
  await must("/v1/payer/devices", { publicKeyJwk, name: "Bench phone" });
  const registration = await startPinRegistration(PIN, { keyStretching: BENCH_KEY_STRETCHING });
  const { registrationResponse } = await must<{ registrationResponse: string }>("/v1/payer/pin/registration", {
    registrationRequest: registration.registrationRequest,
  });
  const { registrationRecord } = await finishPinRegistration(registration.state, registrationResponse);
  const deviceSignature = await signWithNonce(pool, authorization, privateKey, kid, {
    purpose: "set-pin",
    payerId: payer.payerId,
  });
  await must("/v1/payer/pin", { registrationRecord, deviceSignature });
  return {
    payerId: payer.payerId,
    authorization,
    kid,
    privateKey,
    signingKey: KeyObject.from(privateKey),
    publicJwk: publicKeyJwk,
  };
}

/**
 * Seals the card's records on the device and uploads them with K_srv, signed by the device (setup, not timed); the
 * wallet keeps K_dev, as a phone does.
 */
export async function storeCard(
  pool: Pool,
  wallet: Wallet,
  card: BenchCard,
  details: CardDetails = BENCH_CARD,
): Promise<void> {
  const recordVersion = 1;
  const sealed = await sealNewCard(
    { cardId: card.cardId, payerId: card.payerId, deviceId: card.deviceId, version: recordVersion },
    details,
    undefined,
  );
  try {
    await setupPost(pool, `/v1/payer/cards/${card.cardId}/records`, wallet.authorization, {
      sealedCard: sealed.sealedCard,
      recordVersion,
      kSrv: sealed.kSrv,
      deviceSignature: await signWithNonce(pool, wallet.authorization, wallet.privateKey, wallet.kid, {
        purpose: "store-card-records",
        payerId: card.payerId,
        cardId: card.cardId,
        recordVersion: String(recordVersion),
      }),
    });
  } catch (error) {
    wipe(sealed.kDev);
    throw error;
  }
  if (wallet.card) wipe(wallet.card.kDev);
  wallet.card = { cardId: card.cardId, deviceId: card.deviceId, recordVersion, kDev: sealed.kDev };
}

/**
 * A PIN login for `purpose` up to the client's finish: the start (the server counts a try), then OPAQUE's client
 * finish. Returns what the server's finish needs, or null when the start failed.
 */
export async function pinLogin(
  pool: Pool,
  wallet: Wallet,
  purpose: string,
  log: RequestLog,
  device?: DeviceLog,
): Promise<{ loginId: string; finishLoginRequest: string; sessionKey: Uint8Array } | null> {
  const start = await onDevice(device, "device-prepare", () =>
    startPinLogin(PIN, { keyStretching: BENCH_KEY_STRETCHING }),
  );
  const answer = await step<{ loginId: string; loginResponse: string }>(
    pool,
    log,
    "login-start",
    "/v1/payer/pin/login",
    wallet.authorization,
    {
      startLoginRequest: start.startLoginRequest,
      purpose,
    },
  );
  if (!answer) return null;
  const finish = await onDevice(device, "device-opaque-finish", () =>
    finishPinLogin(start.state, answer.loginResponse),
  );
  return { loginId: answer.loginId, finishLoginRequest: finish.finishLoginRequest, sessionKey: finish.sessionKey };
}

/** One `pin-check` login: start → client finish → `POST /v1/payer/pin/login/finish`. True when it verified. */
export async function checkPin(pool: Pool, wallet: Wallet, log: RequestLog, device?: DeviceLog): Promise<boolean> {
  const login = await pinLogin(pool, wallet, "pin-check", log, device);
  if (!login) return false;
  wipe(login.sessionKey);
  const verified = await step<{ verified: boolean }>(
    pool,
    log,
    "login-finish",
    "/v1/payer/pin/login/finish",
    wallet.authorization,
    {
      loginId: login.loginId,
      finishLoginRequest: login.finishLoginRequest,
    },
  );
  return verified?.verified === true;
}

/** An approval the server recorded, with the card released to this payment's one-time key. */
export interface ReleasedApproval {
  approvalId: string;
  paymentId: string;
  terms: ApprovalTerms;
  /** The card's release (a JWE to `releaseKey`): K_srv and the sealed card record. */
  release: string;
  /** The one-time private key made for this payment. */
  releaseKey: KeyObject;
}

/**
 * One approval of `paymentId` with the PIN: challenge → sign the terms → PIN login for `approval:<challenge>` →
 * MAC of the challenge under the session key → approve with a one-time key, which the card is released to.
 * Returns the approval, or null when a request failed. (What follows on a real device — opening the release and
 * the issuer's authorization — is bench/pay-wallet.ts.) With `method` "passkey" the PIN login and MAC give way to
 * the wallet's passkey asserting over the terms' hash (the WebAuthn challenge the server expects), as
 * `Wallet.approvePayment({ passkey })` does: challenge → sign the terms, assert → approve.
 */
export async function approveAndRelease(
  pool: Pool,
  wallet: Wallet,
  paymentId: string,
  log: RequestLog,
  device?: DeviceLog,
  method: "pin" | "passkey" = "pin",
): Promise<ReleasedApproval | null> {
  const challenge = await step<{ id: string; terms: ApprovalTerms }>(
    pool,
    log,
    "challenge",
    `/v1/payer/payments/${paymentId}/approval-challenges`,
    wallet.authorization,
    {
      deviceKey: wallet.kid,
      cardId: wallet.card?.cardId,
    },
  );
  if (!challenge) return null;
  const deviceSignature = await onDevice(device, "device-prepare", async () =>
    signTermsFast(wallet.signingKey, wallet.kid, challenge.terms),
  );
  const verified =
    method === "passkey"
      ? await passkeyVerification(wallet, challenge.terms, device)
      : await pinVerification(pool, wallet, challenge.id, challenge.terms, log, device);
  if (!verified) return null;
  const approval = await step<{ id: string; paymentId: string; release: string }>(
    pool,
    log,
    "approve",
    `/v1/payer/approval-challenges/${challenge.id}/approve`,
    wallet.authorization,
    { deviceSignature, verification: verified.verification, releaseKey: verified.releaseJwk },
  );
  if (!approval) return null;
  return {
    approvalId: approval.id,
    paymentId: approval.paymentId,
    terms: challenge.terms,
    release: approval.release,
    releaseKey: verified.releaseKey,
  };
}

/** What the approval carries besides the terms' signature: how the payer was verified, and the one-time key. */
interface Verified {
  verification: Record<string, unknown>;
  releaseKey: KeyObject;
  releaseJwk: unknown;
}

/** The PIN: an OPAQUE login for `approval:<challenge>`, then the challenge's MAC under the session key. */
async function pinVerification(
  pool: Pool,
  wallet: Wallet,
  challengeId: string,
  terms: ApprovalTerms,
  log: RequestLog,
  device?: DeviceLog,
): Promise<Verified | null> {
  const login = await pinLogin(pool, wallet, `approval:${challengeId}`, log, device);
  if (!login) return null;
  return onDevice(device, "device-opaque-finish", async () => {
    let mac: string;
    try {
      mac = pinChallengeMacFast(login.sessionKey, challengeId, terms);
    } finally {
      wipe(login.sessionKey);
    }
    const oneTime = oneTimeKey();
    return {
      verification: {
        method: "pin",
        loginId: login.loginId,
        finishLoginRequest: login.finishLoginRequest,
        challengeMac: mac,
      },
      releaseKey: oneTime.privateKey,
      releaseJwk: oneTime.publicJwk,
    };
  });
}

/** The passkey: an assertion with user verification over base64url SHA-256 of the canonical terms (pin.ts termsHashOf). */
async function passkeyVerification(wallet: Wallet, terms: ApprovalTerms, device?: DeviceLog): Promise<Verified> {
  const passkey = wallet.passkey;
  if (!passkey) throw new Error(`payer ${wallet.payerId} has no passkey: register one first`);
  return onDevice(device, "device-passkey", async () => {
    const challenge = createHash("sha256").update(canonicalTerms(terms)).digest("base64url");
    const oneTime = oneTimeKey();
    return {
      verification: { method: "passkey", assertion: passkey.assert(challenge) },
      releaseKey: oneTime.privateKey,
      releaseJwk: oneTime.publicJwk,
    };
  });
}

/** An approval of `paymentId` with the PIN, up to the release (the `auth` scenario). True when the server recorded it. */
export async function approveWithPin(
  pool: Pool,
  wallet: Wallet,
  paymentId: string,
  log: RequestLog,
  device?: DeviceLog,
): Promise<boolean> {
  return (await approveAndRelease(pool, wallet, paymentId, log, device))?.paymentId === paymentId;
}
