/**
 * A payer's device for tests, built with the wallet SDK's own code (its P-256 key, signed statements, the PIN's
 * OPAQUE client), so the server is tested against what real wallets send.
 */
import { generateKeyPair } from "jose";
import {
  deviceKeyId,
  exportDevicePublicJwk,
  finishPinLogin,
  finishPinRegistration,
  signStatement,
  startPinLogin,
  startPinRegistration,
  type PinKeyStretching,
} from "@mpay/wallet";
import type { FastifyInstance } from "fastify";
import { call } from "./system.ts";

/** Tests use the lighter stretching: the server's work is the same, and it keeps the suite fast. */
const keyStretching: PinKeyStretching = "memory-constrained";

export interface TestDevice {
  kid: string;
  publicKeyJwk: { kty: "EC"; crv: "P-256"; x: string; y: string };
  privateKey: CryptoKey;
  /** Signs `statement` with a fresh statement nonce of the session it was made for (unless the statement names one). */
  sign(statement: { purpose: string } & Record<string, string>, nowSeconds?: number): Promise<string>;
}

/**
 * A device whose statements carry single-use nonces that `token`'s payer asked `app` for, as the wallet's do. A
 * device made for one payer's session that signs for another's gets nonces of the session it was made for. Its
 * statements' `iat` reads `clock` (a test that moves the server's clock moves the device's with it).
 */
export async function newTestDevice(
  app: FastifyInstance | null,
  token: string | null,
  clock: { now(): Date } = { now: () => new Date() },
): Promise<TestDevice> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const publicKeyJwk = await exportDevicePublicJwk(publicKey);
  const kid = await deviceKeyId(publicKeyJwk);
  const nonceOf = async (statement: Record<string, string>): Promise<string> => {
    if (statement["nonce"] !== undefined) return statement["nonce"];
    // A device made for no app (a test against server processes) is handed each statement's nonce.
    if (app === null || token === null)
      throw new Error("this test device signs only statements that carry their nonce");
    return statementNonce(app, token);
  };
  const sign = async (
    statement: { purpose: string } & Record<string, string>,
    nowSeconds = Math.floor(clock.now().getTime() / 1000),
  ) => signStatement(privateKey, kid, { ...statement, nonce: await nonceOf(statement) }, { nowSeconds });
  return { kid, publicKeyJwk, privateKey, sign };
}

/** A statement nonce for the payer of `token` (what the wallet asks for before each statement). */
export async function statementNonce(app: FastifyInstance, token: string): Promise<string> {
  const answer = await call<{ nonce: string }>(app, "POST", "/v1/payer/statement-nonces", token, {});
  if (answer.status !== 200) throw new Error(`statement nonce refused: ${answer.raw}`);
  return answer.body.nonce;
}

/** Binds `device` as the payer's first device and sets `pin` through the HTTP routes, as the wallet would. */
export async function bindAndSetPin(
  app: FastifyInstance,
  session: { token: string; payerId: string },
  device: TestDevice,
  pin: string,
): Promise<void> {
  const bound = await call(app, "POST", "/v1/payer/devices", session.token, {
    publicKeyJwk: device.publicKeyJwk,
    name: "Phone",
  });
  if (bound.status !== 200) throw new Error(`bind failed: ${bound.raw}`);
  const start = await startPinRegistration(pin, { keyStretching });
  const response = await call<{ registrationResponse: string }>(
    app,
    "POST",
    "/v1/payer/pin/registration",
    session.token,
    { registrationRequest: start.registrationRequest },
  );
  const { registrationRecord } = await finishPinRegistration(start.state, response.body.registrationResponse);
  const set = await call(app, "POST", "/v1/payer/pin", session.token, {
    registrationRecord,
    deviceSignature: await device.sign({ purpose: "set-pin", payerId: session.payerId }),
  });
  if (set.status !== 200) throw new Error(`set PIN failed: ${set.raw}`);
}

/** Starts a PIN login over HTTP; returns what the server answered and the wallet's half, to finish or abandon. */
export async function startLogin(app: FastifyInstance, token: string, pin: string, purpose: string) {
  const start = await startPinLogin(pin, { keyStretching });
  const answer = await call<{ loginId: string; loginResponse: string; triesLeft: number; error?: { code: string } }>(
    app,
    "POST",
    "/v1/payer/pin/login",
    token,
    {
      startLoginRequest: start.startLoginRequest,
      purpose,
    },
  );
  return { answer, finish: () => finishPinLogin(start.state, answer.body.loginResponse) };
}
