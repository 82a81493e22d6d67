import { createHash, createHmac } from "node:crypto";
import { inspect } from "node:util";
import { canonicalTerms, type ApprovalTerms } from "@mpay/protocol";
import * as opaque from "@serenity-kit/opaque";
import { beforeAll, describe, expect, it } from "vitest";
import { isWalletError, WalletError } from "./errors.ts";
import {
  DEFAULT_PIN_KEY_STRETCHING,
  finishPinLogin,
  finishPinRegistration,
  pinChallengeMac,
  startPinLogin,
  startPinRegistration,
  verifyPinChallengeMac,
  type PinKeyStretching,
} from "./pin.ts";

/** See pin.ts: the default (RFC 9807's 2 GiB Argon2id) is for phones; tests use the light setting on both sides. */
const keyStretching: PinKeyStretching = "memory-constrained";
const PIN = "480213";
const WRONG_PIN = "480214";
const payerId = "usr_01TEST";

let serverSetup = "";
let registrationRecord = "";

/** The pay server's side, played with the same library's server functions. */
async function serverLogin(pin: string, options: { keyStretching: PinKeyStretching } = { keyStretching }) {
  const start = await startPinLogin(pin, options);
  const { loginResponse, serverLoginState } = opaque.server.startLogin({
    serverSetup,
    registrationRecord,
    startLoginRequest: start.startLoginRequest,
    userIdentifier: payerId,
  });
  return { start, loginResponse, serverLoginState };
}

beforeAll(async () => {
  await opaque.ready;
  serverSetup = opaque.server.createSetup();
  const { registrationRequest, state } = await startPinRegistration(PIN, { keyStretching });
  const { registrationResponse } = opaque.server.createRegistrationResponse({
    serverSetup,
    userIdentifier: payerId,
    registrationRequest,
  });
  ({ registrationRecord } = await finishPinRegistration(state, registrationResponse));
});

const now = Math.floor(Date.now() / 1000);
const terms: ApprovalTerms = {
  aud: "issuer-kb",
  cardRef: "card_1",
  paymentId: "pay_01",
  merchantId: "mch_01",
  merchantName: "Demo Mall",
  amount: 35000,
  currency: "KRW",
  captureMethod: "automatic",
  nonce: "AAAAAAAAAAAAAAAAAAAAAA",
  iat: now,
  exp: now + 300,
};

describe("PIN format", () => {
  it("takes exactly 6 ASCII digits and never repeats the input in the error", async () => {
    for (const pin of ["12345", "1234567", "12345a", " 123456", "123456\n", "１２３４５６", "١٢٣٤٥٦", "", 123456]) {
      const error = await startPinLogin(pin as string).catch((e: unknown) => e);
      expect(isWalletError(error, "pin_format_invalid")).toBe(true);
      expect((error as WalletError).message).not.toContain("12345");
      await expect(startPinRegistration(pin as string)).rejects.toSatisfy((e) =>
        isWalletError(e, "pin_format_invalid"),
      );
    }
  });

  it("defaults to the key stretching a phone's web view can afford (64 MiB)", () => {
    expect(DEFAULT_PIN_KEY_STRETCHING).toBe("memory-constrained");
  });
});

describe("PIN over OPAQUE", () => {
  it("logs in with the right PIN: the server accepts the finish and both sides hold the same session key", async () => {
    const { start, loginResponse, serverLoginState } = await serverLogin(PIN);
    const { finishLoginRequest, sessionKey } = await finishPinLogin(start.state, loginResponse);
    const server = opaque.server.finishLogin({ serverLoginState, finishLoginRequest });
    expect(sessionKey).toBeInstanceOf(Uint8Array);
    expect(sessionKey.length).toBe(64);
    expect(Buffer.from(sessionKey).toString("base64url")).toBe(server.sessionKey);
  });

  it("gives no session key for a wrong PIN, and says pin_incorrect without either PIN", async () => {
    const { start, loginResponse } = await serverLogin(WRONG_PIN);
    const error = await finishPinLogin(start.state, loginResponse).catch((e: unknown) => e);
    expect(isWalletError(error, "pin_incorrect")).toBe(true);
    expect(String((error as Error).message)).not.toMatch(/48021/);
    expect((error as Error).cause).toBeUndefined();
  });

  it("fails like a wrong PIN when the login's key stretching is not the registration's", async () => {
    const other: PinKeyStretching = { "argon2id-custom": { iterations: 1, memory: 1024, parallelism: 1 } };
    const { start, loginResponse } = await serverLogin(PIN, { keyStretching: other });
    await expect(finishPinLogin(start.state, loginResponse)).rejects.toSatisfy((e) =>
      isWalletError(e, "pin_incorrect"),
    );
  });

  it("uses a login state once, and never shows the PIN when printed", async () => {
    const { start, loginResponse } = await serverLogin(PIN);
    for (const shown of [JSON.stringify(start), inspect(start, { depth: 5 }), String(start.state)])
      expect(shown).not.toContain(PIN);
    await finishPinLogin(start.state, loginResponse);
    await expect(finishPinLogin(start.state, loginResponse)).rejects.toSatisfy((e) =>
      isWalletError(e, "pin_state_used"),
    );
    const registration = await startPinRegistration(PIN, { keyStretching });
    await expect(finishPinLogin(registration.state as never, loginResponse)).rejects.toThrow(TypeError);
  });

  it("reports a malformed server message as such, with no cause and no PIN", async () => {
    const { loginResponse } = await serverLogin(PIN);
    for (const response of ["not base64!", loginResponse.slice(0, 20), "", 42]) {
      const { state } = await startPinLogin(PIN, { keyStretching });
      const error = await finishPinLogin(state, response as string).catch((e: unknown) => e);
      expect(isWalletError(error, "opaque_message_invalid")).toBe(true);
      expect((error as Error).cause).toBeUndefined();
      expect((error as Error).message).not.toContain(PIN);
    }
  });
});

describe("PIN challenge MAC", () => {
  let sessionKey: Uint8Array;
  beforeAll(async () => {
    const { start, loginResponse } = await serverLogin(PIN);
    ({ sessionKey } = await finishPinLogin(start.state, loginResponse));
  });

  it("is HMAC-SHA256 under the session key over mpay/v1|pin-approval|<id>|<b64url SHA-256 of the canonical terms>", async () => {
    const termsHash = createHash("sha256").update(canonicalTerms(terms)).digest("base64url");
    const expected = createHmac("sha256", sessionKey)
      .update(`mpay/v1|pin-approval|apc_1|${termsHash}`)
      .digest("base64url");
    expect(await pinChallengeMac(sessionKey, "apc_1", terms)).toBe(expected);
  });

  it("differs for other terms or another challenge, and verifies only for its own", async () => {
    const mac = await pinChallengeMac(sessionKey, "apc_1", terms);
    expect(await pinChallengeMac(sessionKey, "apc_2", terms)).not.toBe(mac);
    for (const other of [
      { ...terms, amount: 35001 },
      { ...terms, paymentId: "pay_02" },
      { ...terms, merchantId: "mch_02" },
    ]) {
      expect(await pinChallengeMac(sessionKey, "apc_1", other)).not.toBe(mac);
      expect(await verifyPinChallengeMac(sessionKey, "apc_1", other, mac)).toBe(false);
    }
    expect(await verifyPinChallengeMac(sessionKey, "apc_1", terms, mac)).toBe(true);
    expect(await verifyPinChallengeMac(sessionKey, "apc_2", terms, mac)).toBe(false);
    expect(await verifyPinChallengeMac(crypto.getRandomValues(new Uint8Array(64)), "apc_1", terms, mac)).toBe(false);
    expect(await verifyPinChallengeMac(sessionKey, "apc_1", terms, "***")).toBe(false);
  });

  it("refuses a challenge id that could run into the separator, and a session key given as text", async () => {
    await expect(pinChallengeMac(sessionKey, "apc|1", terms)).rejects.toSatisfy((e) =>
      isWalletError(e, "challenge_id_invalid"),
    );
    await expect(pinChallengeMac(sessionKey, "", terms)).rejects.toSatisfy((e) =>
      isWalletError(e, "challenge_id_invalid"),
    );
    await expect(pinChallengeMac("abc" as unknown as Uint8Array, "apc_1", terms)).rejects.toThrow(TypeError);
  });
});
