import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testBackends } from "@mpay/service-kit/testing";
import { createHash } from "node:crypto";
import {
  Browser,
  createAccount,
  openTestMessenger,
  PAY_REDIRECT,
  readForm,
  signInWallet,
  walletLanding,
  type TestMessenger,
} from "@mpay/testing/messenger";
import { createDeviceKey, signStatement, signTerms, type DeviceKey } from "./device-key.ts";
import { isPayApiError, PayApiError } from "./errors.ts";
import { FileKeyStore } from "./file-key-store.ts";
import { createSignInPkce, PayClient, signInCodeFrom, type PinLoginPurpose } from "./pay-client.ts";
import {
  finishPinLogin,
  finishPinRegistration,
  pinChallengeMac,
  startPinLogin,
  startPinRegistration,
  type PinKeyStretching,
} from "./pin.ts";
import { wipe } from "./secrets.ts";
import { listeningTestPay, type ListeningPay } from "@mpay/testing/pay-server";
import { Wallet } from "./wallet.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";

const keyStretching: PinKeyStretching = "memory-constrained";
const PIN = "270418";

/** The error a promise rejects with (the test fails if it resolves). */
async function failure(promise: Promise<unknown>): Promise<PayApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PayApiError)) throw new Error(`expected a PayApiError, got ${inspect(error)}`);
  return error;
}

let folder = "";
let stores = 0;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "mpay-pay-client-"));
});
afterAll(() => rm(folder, { recursive: true, force: true }));
const newDeviceKey = () =>
  createDeviceKey(new FileKeyStore(join(folder, `device-${++stores}.json`), FileKeyStore.newDeviceSecret()));
/** A device statement with a fresh single-use nonce from the server, as the Wallet signs them. */
const signed = async (client: PayClient, key: DeviceKey, statement: { purpose: string } & Record<string, string>) =>
  signStatement(key.privateKey, key.kid, { ...statement, nonce: await client.devices.statementNonce() });
/** A PIN proof for a security change: a finished OPAQUE login for `purpose`. */
async function pinProof(client: PayClient, purpose: PinLoginPurpose, pin = PIN) {
  const login = await startPinLogin(pin, { keyStretching });
  const answer = await client.pin.startLogin({ startLoginRequest: login.startLoginRequest, purpose });
  const finished = await finishPinLogin(login.state, answer.loginResponse);
  wipe(finished.sessionKey);
  return { loginId: answer.loginId, finishLoginRequest: finished.finishLoginRequest };
}
/** Sets the payer's first PIN, vouched for by `key` (its bound device). */
async function setPin(client: PayClient, key: DeviceKey, payerId: string, pin = PIN) {
  const registration = await startPinRegistration(pin, { keyStretching });
  const { registrationRecord } = await finishPinRegistration(
    registration.state,
    await client.pin.registration(registration.registrationRequest),
  );
  return client.pin.set({
    registrationRecord,
    deviceSignature: await signed(client, key, { purpose: "set-pin", payerId }),
  });
}

describe.each(testBackends())("PayClient against the pay server [%s]", (backend) => {
  let server: ListeningPay;
  let messenger: TestMessenger;

  beforeAll(async () => {
    messenger = await openTestMessenger(backend);
    server = await listeningTestPay(backend, {
      messenger: {
        issuer: messenger.issuer,
        clientId: "mpay-pay",
        clientSecret: messenger.paySecret,
        clientSecretFile: "/nonexistent",
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await messenger?.close();
  });

  it("signs in through the messenger: the authorization URL, the landing page's code exchanged with the verifier", async () => {
    const account = await createAccount(messenger.url, "Lee Seoyeon");
    const client = new PayClient({ baseUrl: server.baseUrl });
    expect(client.signedIn).toBe(false);
    const pkce = await createSignInPkce();
    expect(pkce.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pkce.codeChallenge).toBe(createHash("sha256").update(pkce.codeVerifier).digest("base64url"));
    const start = await client.sessions.start({ codeChallenge: pkce.codeChallenge });
    const url = new URL(start.authorizationUrl);
    expect([url.origin, url.searchParams.get("code_challenge_method"), url.searchParams.get("state")]).toEqual([
      messenger.issuer,
      "S256",
      start.state,
    ]);
    // The messenger sees the pay server's own PKCE challenge, never the wallet's.
    expect(url.searchParams.get("code_challenge")).not.toBe(pkce.codeChallenge);

    const browser = new Browser();
    const opened = await browser.open(url, PAY_REDIRECT);
    const submitted = await browser.submit(
      opened.page!,
      readForm(opened.page!.body, /\/login$/),
      { phone: account.phoneNumber, password: account.password },
      PAY_REDIRECT,
    );
    const landing = await walletLanding(server.baseUrl, submitted.callback!);
    expect(`${landing.origin}${landing.pathname}`).toBe("http://localhost:4300/wallet/signin");
    const code = signInCodeFrom(landing);

    // The code alone is worth nothing: a wrong verifier is refused, and it spends the code.
    const other = await createSignInPkce();
    const wrong = await failure(client.sessions.exchange({ code, codeVerifier: other.codeVerifier }));
    expect(wrong).toMatchObject({ code: "sign_in_invalid", type: "authentication_error", statusCode: 401 });
    expect(client.signedIn).toBe(false);
    expect(`${wrong.message} ${JSON.stringify(wrong)} ${inspect(wrong)}`).not.toContain(code);
    const spent = await failure(client.sessions.exchange({ code, codeVerifier: pkce.codeVerifier }));
    expect(spent.code).toBe("sign_in_invalid");

    // A sign-in of its own, exchanged with its verifier, opens the session.
    const wallet = new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore: new FileKeyStore(join(folder, `device-${++stores}.json`), FileKeyStore.newDeviceSecret()),
      client,
    });
    const session = await signInWallet(wallet, account, server.baseUrl);
    expect(session.payer).toMatchObject({
      object: "payer",
      displayName: "Lee Seoyeon",
      phoneNumber: account.phoneNumber,
    });
    expect(session.sessionToken.peek()).toMatch(/^pst_[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(session)).not.toContain(session.sessionToken.peek());
    expect(client.signedIn).toBe(true);
    expect((await client.sessions.payer()).id).toBe(session.payer.id);
    // The token lives in a private field: a logged client shows neither it nor the way to it.
    expect(inspect(client, { showHidden: true, depth: 5 })).not.toContain(session.sessionToken.peek());
    expect(JSON.stringify(client)).not.toContain(session.sessionToken.peek());
  });

  it("reads the landing page: a code, or the error it names", () => {
    const code = `plc_${"c".repeat(43)}`;
    expect(signInCodeFrom(`http://127.0.0.1:4300/wallet/signin?code=${code}`)).toBe(code);
    expect(signInCodeFrom(`?code=${code}`)).toBe(code);
    expect(signInCodeFrom(new URLSearchParams({ code }))).toBe(code);
    expect(() => signInCodeFrom("?error=messenger_unavailable")).toThrow(
      expect.objectContaining({ code: "messenger_unavailable" }),
    );
    expect(() => signInCodeFrom("?error=<script>")).toThrow(expect.objectContaining({ code: "sign_in_invalid" }));
    expect(() => signInCodeFrom("?code=pst_leaked")).toThrow(expect.objectContaining({ code: "sign_in_invalid" }));
  });

  it("answers a missing or unknown session as payer_session_invalid", async () => {
    const anonymous = new PayClient({ baseUrl: server.baseUrl });
    expect(await failure(anonymous.sessions.payer())).toMatchObject({ code: "payer_session_invalid", statusCode: 401 });
    const unknown = new PayClient({ baseUrl: server.baseUrl, sessionToken: `pst_${"A".repeat(43)}` });
    expect(await failure(unknown.devices.list())).toMatchObject({ code: "payer_session_invalid", statusCode: 401 });
  });

  it("binds the first device; a second only with a bound device's word and the PIN, pending; cancels with the PIN; revokes", async () => {
    const { client, payerId } = await server.signedInClient();
    const phone = await newDeviceKey();
    const tablet = await newDeviceKey();
    const laptop = await newDeviceKey();

    const first = await client.devices.bind({ publicKeyJwk: phone.publicJwk, name: "Phone" });
    expect(first).toMatchObject({
      object: "device",
      name: "Phone",
      keyThumbprint: phone.kid,
      status: "active",
      approvedBy: "first-sign-in",
    });
    await setPin(client, phone, payerId);

    const refused = await failure(client.devices.bind({ publicKeyJwk: tablet.publicJwk, name: "Tablet" }));
    expect(refused).toMatchObject({
      code: "device_approval_required",
      type: "permission_error",
      statusCode: 403,
      param: "approval",
    });
    const wordOnly = await failure(
      client.devices.bind({
        publicKeyJwk: tablet.publicJwk,
        name: "Tablet",
        approval: await signed(client, phone, { purpose: "bind-device", payerId, deviceKey: tablet.kid }),
      }),
    );
    expect(wordOnly).toMatchObject({ code: "pin_proof_required", statusCode: 403, param: "pin" });

    const approval = await signed(client, phone, { purpose: "bind-device", payerId, deviceKey: tablet.kid });
    const pending = await client.devices.bind({
      publicKeyJwk: tablet.publicJwk,
      name: "Tablet",
      approval,
      pin: await pinProof(client, `bind-device:${tablet.kid}`),
    });
    expect(pending).toMatchObject({ status: "pending", approvedBy: `device:${first.id}` });
    expect(Date.parse(pending.activatesAt)).toBeGreaterThan(Date.now() + 3600_000);
    expect(await client.pendingChanges.list()).toEqual([
      expect.objectContaining({ id: pending.id, kind: "device", deviceName: "Tablet" }),
    ]);
    expect((await client.devices.list()).map((d) => [d.id, d.status]).sort()).toEqual(
      [
        [first.id, "active"],
        [pending.id, "pending"],
      ].sort(),
    );

    // The phone's word alone cancels nothing; the PIN does.
    const byWord = await failure(
      client.devices.cancel(pending.id, {
        signature: await signed(client, phone, { purpose: "cancel-device", payerId, deviceId: pending.id }),
      }),
    );
    expect(byWord.code).toBe("pin_proof_required");
    expect(
      await client.pendingChanges.cancel(pending.id, await pinProof(client, `cancel-device:${pending.id}`)),
    ).toEqual([]);

    const other = await client.devices.bind({
      publicKeyJwk: laptop.publicJwk,
      name: "Laptop",
      approval: await signed(client, phone, { purpose: "bind-device", payerId, deviceKey: laptop.kid }),
      pin: await pinProof(client, `bind-device:${laptop.kid}`),
    });
    // A waiting device withdraws on its own word.
    expect(
      (
        await client.devices.cancel(other.id, {
          signature: await signed(client, laptop, { purpose: "cancel-device", payerId, deviceId: other.id }),
        })
      ).status,
    ).toBe("canceled");
    expect(
      await failure(
        client.devices.revoke(other.id, {
          signature: await signed(client, phone, { purpose: "revoke-device", payerId, deviceId: other.id }),
        }),
      ),
    ).toMatchObject({ code: "device_not_active", statusCode: 403 });
    expect(await failure(client.devices.revoke("dev_00000000000000000000000000"))).toMatchObject({
      code: "resource_missing",
      statusCode: 404,
    });
    // The phone revokes itself on its own word.
    expect(
      (
        await client.devices.revoke(first.id, {
          signature: await signed(client, phone, { purpose: "revoke-device", payerId, deviceId: first.id }),
        })
      ).status,
    ).toBe("revoked");
  });

  it("sets, checks and changes the PIN with OPAQUE messages only, and reports the counted tries", async () => {
    const { client, payerId } = await server.signedInClient();
    const phone = await newDeviceKey();
    await client.devices.bind({ publicKeyJwk: phone.publicJwk, name: "Phone" });
    expect(await client.pin.status()).toEqual({ object: "pin", set: false, locked: false, triesLeft: 5 });

    const registration = await startPinRegistration(PIN, { keyStretching });
    const { registrationRecord } = await finishPinRegistration(
      registration.state,
      await client.pin.registration(registration.registrationRequest),
    );
    const deviceSignature = await signed(client, phone, { purpose: "set-pin", payerId });
    expect(await client.pin.set({ registrationRecord, deviceSignature })).toEqual({
      object: "pin",
      set: true,
      locked: false,
      triesLeft: 5,
    });
    expect(
      await failure(
        client.pin.set({
          registrationRecord,
          deviceSignature: await signed(client, phone, { purpose: "set-pin", payerId }),
        }),
      ),
    ).toMatchObject({ code: "pin_already_set", statusCode: 409 });

    const wrong = await startPinLogin("111111", { keyStretching });
    const wrongAnswer = await client.pin.startLogin({
      startLoginRequest: wrong.startLoginRequest,
      purpose: "pin-check",
    });
    expect(wrongAnswer.triesLeft).toBe(4);
    await expect(finishPinLogin(wrong.state, wrongAnswer.loginResponse)).rejects.toMatchObject({
      code: "pin_incorrect",
    });
    expect((await client.pin.status()).triesLeft).toBe(4);

    const check = await startPinLogin(PIN, { keyStretching });
    const checkAnswer = await client.pin.startLogin({
      startLoginRequest: check.startLoginRequest,
      purpose: "pin-check",
    });
    const finished = await finishPinLogin(check.state, checkAnswer.loginResponse);
    wipe(finished.sessionKey);
    expect(
      await client.pin.finishLogin({ loginId: checkAnswer.loginId, finishLoginRequest: finished.finishLoginRequest }),
    ).toEqual({ verified: true });
    expect((await client.pin.status()).triesLeft).toBe(5);
    // Single use: the same finish again is refused.
    expect(
      await failure(
        client.pin.finishLogin({ loginId: checkAnswer.loginId, finishLoginRequest: finished.finishLoginRequest }),
      ),
    ).toMatchObject({
      code: "pin_login_invalid",
      statusCode: 401,
    });

    const current = await startPinLogin(PIN, { keyStretching });
    const changeAnswer = await client.pin.startLogin({
      startLoginRequest: current.startLoginRequest,
      purpose: "pin-change",
    });
    const proved = await finishPinLogin(current.state, changeAnswer.loginResponse);
    wipe(proved.sessionKey);
    const next = await startPinRegistration("906153", { keyStretching });
    const nextRecord = await finishPinRegistration(next.state, await client.pin.registration(next.registrationRequest));
    const changed = await client.pin.change({
      loginId: changeAnswer.loginId,
      finishLoginRequest: proved.finishLoginRequest,
      registrationRecord: nextRecord.registrationRecord,
    });
    expect(changed).toMatchObject({ set: true, locked: false, triesLeft: 5 });

    expect(
      await failure(client.pin.startLogin({ startLoginRequest: "not base64url!", purpose: "pin-check" })),
    ).toMatchObject({ statusCode: 400, type: "invalid_request_error" });
  });

  it("gets a payment's challenge and sends the approval and the issuer's JWE; the error for a replay names the code and carries none of the request", async () => {
    const { client, payerId } = await server.signedInClient();
    // The device and its card are set up with the Wallet (the enrollment's cryptography is its job); the
    // approval below is made with the client's own calls.
    const store = new FileKeyStore(join(folder, `device-${++stores}.json`), FileKeyStore.newDeviceSecret());
    const wallet = new Wallet({ trustedRoots: TEST_NETWORK_ROOTS, keyStore: store, client, keyStretching });
    await wallet.bindThisDevice("Phone");
    const phone: DeviceKey = await wallet.ensureDeviceKey();
    const registration = await startPinRegistration(PIN, { keyStretching });
    const { registrationRecord } = await finishPinRegistration(
      registration.state,
      await client.pin.registration(registration.registrationRequest),
    );
    await client.pin.set({
      registrationRecord,
      deviceSignature: await signed(client, phone, { purpose: "set-pin", payerId }),
    });
    const card = await server.enrollCard(wallet);
    expect(await client.cards.list()).toMatchObject([
      { id: card.id, issuerId: "sampo", last4: "0016", status: "active" },
    ]);
    expect((await client.cards.issuers()).map((i) => i.issuerId)).toEqual(["sampo"]);

    const paymentId = await server.newPayment({ amount: 12900 });
    const challenge = await client.payments.approvalChallenge(paymentId, { deviceKey: phone.kid, cardId: card.id });
    expect(challenge.terms).toMatchObject({
      paymentId,
      merchantName: "Test Shop",
      amount: 12900,
      currency: "KRW",
      cardRef: card.cardRef,
      aud: "sampo",
    });

    const deviceSignature = await signTerms(phone.privateKey, phone.kid, challenge.terms);
    const login = await startPinLogin(PIN, { keyStretching });
    const loginAnswer = await client.pin.startLogin({
      startLoginRequest: login.startLoginRequest,
      purpose: `approval:${challenge.id}`,
    });
    const finished = await finishPinLogin(login.state, loginAnswer.loginResponse);
    const challengeMac = await pinChallengeMac(finished.sessionKey, challenge.id, challenge.terms);
    wipe(finished.sessionKey);
    const oneTime = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
    const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", oneTime.publicKey);
    const body = {
      deviceSignature,
      verification: {
        method: "pin" as const,
        loginId: loginAnswer.loginId,
        finishLoginRequest: finished.finishLoginRequest,
        challengeMac,
      },
      releaseKey: { kty, crv, x, y },
    };

    const approval = await client.payments.approve(challenge.id, body);
    expect(approval).toMatchObject({ object: "payment_approval", paymentId, method: "pin" });
    expect(approval.release.split(".")).toHaveLength(5);

    const replay = await failure(client.payments.approve(challenge.id, body));
    expect(replay).toMatchObject({ code: "approval_challenge_used", type: "conflict_error", statusCode: 409 });
    expect(isPayApiError(replay, "approval_challenge_used")).toBe(true);
    const printed = `${replay.message} ${JSON.stringify(replay)} ${inspect(replay, { showHidden: true })}`;
    for (const part of [deviceSignature, finished.finishLoginRequest, challengeMac])
      expect(printed).not.toContain(part);
    expect((replay as { cause?: unknown }).cause).toBeUndefined();

    // The issuer's JWE is checked before it is relayed: not one, or with another algorithm, is refused here.
    expect(await failure(client.payments.authorize(approval.id, "not.a.jwe"))).toMatchObject({
      code: "parameter_invalid",
      statusCode: 400,
    });
    const header = Buffer.from(JSON.stringify({ alg: "dir", enc: "A256GCM", typ: "mpay-payment+jwe" })).toString(
      "base64url",
    );
    expect(await failure(client.payments.authorize(approval.id, `${header}..AAAA.AAAA.AAAA`))).toMatchObject({
      code: "jose_algorithm_refused",
      statusCode: 400,
    });

    expect(
      await failure(
        client.payments.approvalChallenge("pay_00000000000000000000000000", { deviceKey: phone.kid, cardId: card.id }),
      ),
    ).toMatchObject({
      code: "resource_missing",
      statusCode: 404,
    });
  });
});

describe("PayClient without an MPay server", () => {
  let server: Server;
  let baseUrl = "";
  /** What the fake server answers next. */
  let answer: (respond: (status: number, type: string, body: string) => void) => void = () => {};

  beforeAll(async () => {
    server = createServer((_request, response) =>
      answer((status, type, body) => response.writeHead(status, { "content-type": type }).end(body)),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("says when the server cannot be reached, or does not answer in time", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = await failure(new PayClient({ baseUrl: `http://127.0.0.1:${port}` }).sessions.payer());
    expect(unreachable).toMatchObject({
      code: "pay_server_unreachable",
      type: "connection_error",
      statusCode: undefined,
    });
    expect(unreachable.message).toContain("ECONNREFUSED");

    answer = () => {}; // never answers
    const slow = await failure(new PayClient({ baseUrl, timeoutMs: 200 }).pin.status());
    expect(slow).toMatchObject({ code: "pay_server_timeout", statusCode: undefined });
    expect(slow.message).toContain("GET /v1/payer/pin");
  });

  it("refuses an answer that is not the route's documented shape, without quoting it", async () => {
    answer = (respond) => respond(502, "text/html", "<html>Bad gateway</html>");
    expect(await failure(new PayClient({ baseUrl }).sessions.payer())).toMatchObject({
      code: "pay_server_answer_invalid",
      statusCode: 502,
    });

    // A sign-in answer whose token is malformed: the message names the field, never its value.
    answer = (respond) =>
      respond(
        200,
        "application/json",
        JSON.stringify({
          object: "payer_session",
          sessionToken: "pst_leaked-looking-value",
          expiresAt: "x",
          payer: { id: "usr_1" },
        }),
      );
    const odd = await failure(
      new PayClient({ baseUrl }).sessions.exchange({ code: `plc_${"a".repeat(43)}`, codeVerifier: "v".repeat(43) }),
    );
    expect(odd).toMatchObject({ code: "pay_server_answer_invalid", statusCode: 200 });
    expect(odd.message).toContain("payer");
    expect(odd.message).not.toContain("leaked-looking-value");
    expect(odd.message).not.toContain("aaaa");

    // Terms with a field the protocol does not define are not shown to anyone.
    const now = Math.floor(Date.now() / 1000);
    const terms = {
      aud: "i",
      cardRef: "c",
      paymentId: "pay_1",
      merchantId: "mch_1",
      merchantName: "Shop",
      amount: 1,
      currency: "KRW",
      captureMethod: "automatic",
      nonce: "A".repeat(22),
      iat: now,
      exp: now + 60,
    };
    answer = (respond) =>
      respond(
        200,
        "application/json",
        JSON.stringify({
          id: "apc_1",
          object: "approval_challenge",
          terms: { ...terms, note: "Pay here instead!" },
          expiresAt: "x",
        }),
      );
    expect(
      await failure(
        new PayClient({ baseUrl }).payments.approvalChallenge("pay_1", { deviceKey: "k", cardId: "card_1" }),
      ),
    ).toMatchObject({ code: "pay_server_answer_invalid" });

    // A card-on-file mandate is shown only with a schedule that bounds something: the period is part of it, and its
    // total lies between one charge and every charge at the cap.
    const mandate = {
      aud: "sampo",
      cardRef: "c",
      merchantId: "mch_1",
      merchantName: "Shop",
      maxAmount: 10_000,
      period: { interval: "month", maxCharges: 2, maxTotal: 20_000 },
      currency: "KRW",
      expiresAt: now + 86_400,
      nonce: "B".repeat(22),
      iat: now,
    };
    const challengeWith = (m: unknown) => (respond: (status: number, type: string, body: string) => void) =>
      respond(
        200,
        "application/json",
        JSON.stringify({ id: "apc_1", object: "approval_challenge", terms, mandate: m, collect: [], expiresAt: "x" }),
      );
    answer = challengeWith(mandate);
    expect(
      (await new PayClient({ baseUrl }).payments.approvalChallenge("pay_1", { deviceKey: "k", cardId: "card_1" }))
        .mandate,
    ).toEqual(mandate);
    const { period: _period, ...unbounded } = mandate;
    for (const bad of [
      unbounded,
      { ...mandate, period: { ...mandate.period, maxTotal: 20_001 } },
      { ...mandate, period: { ...mandate.period, maxCharges: 1_000 } },
    ]) {
      answer = challengeWith(bad);
      expect(
        await failure(
          new PayClient({ baseUrl }).payments.approvalChallenge("pay_1", { deviceKey: "k", cardId: "card_1" }),
        ),
      ).toMatchObject({ code: "pay_server_answer_invalid" });
    }
  });

  it("exchanges the code by POST under a base path, and sends the session only as a bearer header", async () => {
    const seen: Array<{ url: string; authorization: string | null; cookie: string | null; body: unknown }> = [];
    const token = `pst_${"b".repeat(43)}`;
    const fakeFetch: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      seen.push({
        url: String(input),
        authorization: headers.get("authorization"),
        cookie: headers.get("cookie"),
        body: init?.body ? JSON.parse(String(init.body)) : null,
      });
      const session = {
        object: "payer_session",
        sessionToken: token,
        expiresAt: "2030-01-01T00:00:00.000Z",
        payer: {
          id: "usr_1",
          object: "payer",
          displayName: "P",
          phoneNumber: null,
          createdAt: "2030-01-01T00:00:00.000Z",
        },
      };
      return new Response(JSON.stringify(String(input).includes("/me") ? session.payer : session), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    };
    const client = new PayClient({ baseUrl: "https://pay.example/base/", fetch: fakeFetch });
    const code = `plc_${"c".repeat(43)}`;
    await client.sessions.start({ codeChallenge: "h".repeat(43) }).catch(() => undefined);
    await client.sessions.exchange({ code, codeVerifier: "v".repeat(43) });
    await client.sessions.payer();
    expect(seen.map((s) => s.url)).toEqual([
      "https://pay.example/base/v1/payer/auth/start",
      "https://pay.example/base/v1/payer/auth/exchange",
      "https://pay.example/base/v1/payer/me",
    ]);
    expect(seen[0]?.body).toEqual({ codeChallenge: "h".repeat(43) });
    // The code and verifier travel in the body, never in the URL.
    expect(seen[1]).toMatchObject({ authorization: null, body: { code, codeVerifier: "v".repeat(43) } });
    expect(seen[2]).toMatchObject({ authorization: `Bearer ${token}`, cookie: null });
  });

  it("refuses plain http off this machine and a malformed session token, and encodes ids in paths", async () => {
    expect(() => new PayClient({ baseUrl: "http://pay.example" })).toThrow(/https/);
    expect(() => new PayClient({ baseUrl: "not a url" })).toThrow(TypeError);
    expect(() => new PayClient({ baseUrl: "https://pay.example", sessionToken: "sk_test_123" })).toThrow(/pst_/);
    const urls: string[] = [];
    const client = new PayClient({
      baseUrl: "https://pay.example",
      fetch: async (input) => {
        urls.push(String(input));
        return new Response("{}", { status: 404 });
      },
    });
    await failure(client.devices.revoke("../../v1/payments"));
    expect(urls).toEqual(["https://pay.example/v1/payer/devices/..%2F..%2Fv1%2Fpayments/revoke"]);
  });
});
