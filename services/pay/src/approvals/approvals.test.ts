import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { pinChallengeMac, signTerms } from "@mpay/wallet";
import type { ApprovalTerms } from "@mpay/protocol";
import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { openPaySystem } from "../system.ts";
import { SoftwareAuthenticator } from "../testing/software-authenticator.ts";
import { approvalChallengeOf } from "../passkeys/service.ts";
import { testBackends } from "../testing/databases.ts";
import { bindAndSetPin, newTestDevice, startLogin, type TestDevice } from "../testing/payer-device.ts";
import { call, openTestPay, paymentBody, signedInPayer, type TestPay } from "../testing/system.ts";
import { addTestCard, newReleaseKey, type TestCard } from "../testing/cards.ts";
import { openRelease } from "@mpay/wallet";
import { newId } from "@mpay/protocol";
import { findChallengeToApprove, spendChallengeForApproval } from "./store.ts";

type ErrorAnswer = { error: { code: string; message: string } };
type Challenge = { id: string; terms: ApprovalTerms; expiresAt: string };
const PIN = "581302";

describe.each(testBackends())("payment approval from the payer's device [%s]", (backend) => {
  let t: TestPay;
  let payer: { token: string; payerId: string };
  let phone: TestDevice;
  /** The card each device holds, by device kid. */
  const cards = new Map<string, TestCard>();

  beforeAll(async () => {
    t = await openTestPay(backend);
  });
  // A fresh payer for each case: refused approvals leave their PIN tries counted (as they must), and five lock.
  beforeEach(async () => {
    payer = await signedInPayer(t.system);
    phone = await newTestDevice(t.app, payer.token);
    await bindAndSetPin(t.app, payer, phone, PIN);
    cards.set(phone.kid, await addTestCard(t.system, t.app, payer, phone));
  });
  afterAll(() => t.close());

  const newPayment = async (amount = 35000) =>
    (await call<{ id: string }>(t.app, "POST", "/v1/payments", t.merchant.secretKey, paymentBody({ amount }))).body.id;
  const challengeFor = async (paymentId: string, device = phone, session = payer) =>
    call<Challenge & ErrorAnswer>(t.app, "POST", `/v1/payer/payments/${paymentId}/approval-challenges`, session.token, {
      deviceKey: device.kid,
      cardId: (cards.get(device.kid) ?? cards.get(phone.kid))!.cardId,
    });

  /** The wallet's whole approval with the PIN; `tamper` lets a test change one ingredient. */
  async function approveWithPin(
    challenge: Challenge,
    tamper: {
      terms?: ApprovalTerms;
      signer?: TestDevice;
      loginFor?: string;
      macTerms?: ApprovalTerms;
      session?: typeof payer;
    } = {},
  ) {
    const session = tamper.session ?? payer;
    const deviceSignature = await signTerms(
      (tamper.signer ?? phone).privateKey,
      (tamper.signer ?? phone).kid,
      tamper.terms ?? challenge.terms,
    );
    const login = await startLogin(t.app, session.token, PIN, `approval:${tamper.loginFor ?? challenge.id}`);
    const finished = await login.finish();
    const challengeMac = await pinChallengeMac(finished.sessionKey, challenge.id, tamper.macTerms ?? challenge.terms);
    const releaseKey = await newReleaseKey();
    const body = {
      deviceSignature,
      verification: {
        method: "pin",
        loginId: login.answer.body.loginId,
        finishLoginRequest: finished.finishLoginRequest,
        challengeMac,
      },
      releaseKey: releaseKey.jwk,
    };
    const answer = await call<{ id: string; paymentId: string; method: string; release: string } & ErrorAnswer>(
      t.app,
      "POST",
      `/v1/payer/approval-challenges/${challenge.id}/approve`,
      session.token,
      body,
    );
    return { body, answer, releaseKey };
  }

  it("issues the terms with the merchant's registered name and the card's issuer, records a PIN approval once and releases the card to the device's one-time key; the payment waits for the issuer", async () => {
    const paymentId = await newPayment();
    const card = cards.get(phone.kid)!;
    const challenge = await challengeFor(paymentId);
    expect(challenge.status).toBe(200);
    expect(challenge.body.terms).toMatchObject({
      paymentId,
      merchantId: t.merchant.id,
      merchantName: "Test Shop",
      amount: 35000,
      currency: "KRW",
      aud: "sampo",
      cardRef: card.cardRef,
    });
    expect(challenge.body.terms.exp - challenge.body.terms.iat).toBeLessThanOrEqual(300);
    const { body, answer, releaseKey } = await approveWithPin(challenge.body);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ paymentId, method: "pin" });
    // The release opens with the one-time key only, and holds the server's share and the sealed card record.
    const opened = await openRelease(answer.body.release, releaseKey.privateKey);
    expect(Buffer.from(opened.kSrv).toString("base64url")).toBe(card.kSrv);
    expect(opened.payload).toMatchObject({ cardId: card.cardId, sealedCard: card.sealedCard, recordVersion: 1 });
    await expect(openRelease(answer.body.release, (await newReleaseKey()).privateKey)).rejects.toMatchObject({
      code: "release_invalid",
    });
    const payment = await call<{ status: string }>(t.app, "GET", `/v1/payments/${paymentId}`, t.merchant.secretKey);
    expect(payment.body.status).toBe("requires_approval");
    // One approval per payment: a second challenge for it cannot be approved.
    const again = await challengeFor(paymentId);
    expect((await approveWithPin(again.body)).answer.body.error.code).toBe("payment_invalid_state");
    // The same approval again is a replay.
    const replay = await call<ErrorAnswer>(
      t.app,
      "POST",
      `/v1/payer/approval-challenges/${challenge.body.id}/approve`,
      payer.token,
      body,
    );
    expect([replay.status, replay.body.error.code]).toEqual([409, "approval_challenge_used"]);
  });

  it("spends a challenge in the statement that records its approval: once, and one approval per payment", async () => {
    const paymentId = await newPayment();
    const a = (await challengeFor(paymentId)).body;
    const b = (await challengeFor(paymentId)).body;
    const db = t.system.database.db;
    const { challenge } = (await findChallengeToApprove(db, a.id, payer.payerId))!;
    const approvalOf = (challengeId: string) => ({
      id: newId("approval"),
      challengeId,
      paymentId,
      merchantId: t.merchant.id,
      payerId: payer.payerId,
      deviceId: challenge.deviceId,
      method: "passkey" as const,
      deviceSignature: "jws",
      passkeyAssertion: { response: { userHandle: "u" } },
    });
    const first = await spendChallengeForApproval(db, approvalOf(a.id));
    expect(first).toMatchObject({ challengeId: a.id, paymentId, passkeyAssertion: { response: { userHandle: "u" } } });
    expect(first!.createdAt).toBeInstanceOf(Date);
    expect((await findChallengeToApprove(db, a.id, payer.payerId))!.challenge.usedAt).toBeInstanceOf(Date);
    // A spent challenge records nothing more.
    expect(await spendChallengeForApproval(db, approvalOf(a.id))).toBeNull();
    // Another challenge of the approved payment meets the unique index (the service answers payment_invalid_state),
    // and stays unspent: the statement is one.
    const error = await spendChallengeForApproval(db, approvalOf(b.id)).catch((e: unknown) => e);
    const { code, cause } = error as { code?: string; cause?: { code?: string } };
    expect(cause?.code ?? code).toBe("23505");
    expect(await findChallengeToApprove(db, b.id, payer.payerId)).toMatchObject({
      approved: true,
      challenge: { usedAt: null },
    });
  });

  it("refuses a signature over another amount, merchant or payment", async () => {
    for (const change of [
      { amount: 1 },
      { merchantId: "mch_00000000000000000000000000" },
      { paymentId: "pay_00000000000000000000000000" },
      { merchantName: "Evil Mall" },
    ]) {
      const challenge = (await challengeFor(await newPayment())).body;
      const { answer } = await approveWithPin(challenge, { terms: { ...challenge.terms, ...change } });
      expect([answer.status, answer.body.error.code], JSON.stringify(change)).toEqual([
        401,
        "approval_signature_invalid",
      ]);
    }
  });

  it("refuses payment A's PIN login used for payment B, and a PIN MAC over other terms", async () => {
    const a = (await challengeFor(await newPayment())).body;
    const b = (await challengeFor(await newPayment(1000))).body;
    const swapped = await approveWithPin(b, { loginFor: a.id });
    expect(swapped.answer.body.error.code).toBe("pin_login_invalid");
    const otherMac = await approveWithPin(b, { macTerms: a.terms });
    expect(otherMac.answer.body.error.code).toBe("user_verification_invalid");
  });

  it("refuses an approval with no user verification", async () => {
    const challenge = (await challengeFor(await newPayment())).body;
    const deviceSignature = await signTerms(phone.privateKey, phone.kid, challenge.terms);
    const answer = await call<ErrorAnswer>(
      t.app,
      "POST",
      `/v1/payer/approval-challenges/${challenge.id}/approve`,
      payer.token,
      { deviceSignature },
    );
    expect([answer.status, answer.body.error.code]).toEqual([400, "parameter_missing"]);
  });

  it("refuses an expired challenge", async () => {
    const challenge = (await challengeFor(await newPayment())).body;
    await t.system.database.db.execute(
      sql`update approval_challenges set expires_at = now() - interval '1 second' where id = ${challenge.id}`,
    );
    const { answer } = await approveWithPin(challenge);
    expect(answer.body.error.code).toBe("approval_challenge_expired");
  });

  it("refuses another payer's device and a revoked device", async () => {
    const other = await signedInPayer(t.system, "Other");
    const otherPhone = await newTestDevice(t.app, other.token);
    await bindAndSetPin(t.app, other, otherPhone, PIN);
    // Another payer cannot even ask for a challenge with my device, nor approve my challenge with theirs.
    expect((await challengeFor(await newPayment(), phone, other)).body.error.code).toBe("device_not_active");
    const mine = (await challengeFor(await newPayment())).body;
    const theirs = await approveWithPin(mine, { signer: otherPhone });
    expect(theirs.answer.body.error.code).toBe("approval_signature_invalid");
    const stolenSession = await call<ErrorAnswer>(
      t.app,
      "POST",
      `/v1/payer/approval-challenges/${mine.id}/approve`,
      other.token,
      (await approveWithPin((await challengeFor(await newPayment())).body)).body,
    );
    expect(stolenSession.body.error.code).toBe("resource_missing");

    // Revocation takes effect at once for the next approval.
    const session = await signedInPayer(t.system, "Revoker");
    const tablet = await newTestDevice(t.app, session.token);
    await bindAndSetPin(t.app, session, tablet, PIN);
    cards.set(tablet.kid, await addTestCard(t.system, t.app, session, tablet));
    const pending = (await challengeFor(await newPayment(), tablet, session)).body;
    const devices = await call<{ data: Array<{ id: string }> }>(t.app, "GET", "/v1/payer/devices", session.token);
    await call(t.app, "POST", `/v1/payer/devices/${devices.body.data[0]!.id}/revoke`, session.token, {
      signature: await tablet.sign({
        purpose: "revoke-device",
        payerId: session.payerId,
        deviceId: devices.body.data[0]!.id,
      }),
    });
    const revoked = await approveWithPin(pending, { signer: tablet, session });
    expect(revoked.answer.body.error.code).toBe("approval_signature_invalid");
  });

  it("records a passkey approval whose assertion covers the terms, with user verification", async () => {
    const authenticator = new SoftwareAuthenticator("http://localhost:4300");
    const pinLogin = await startLogin(t.app, payer.token, PIN, "add-passkey");
    const proved = await pinLogin.finish();
    const options = await call<PublicKeyCredentialCreationOptionsJSON>(
      t.app,
      "POST",
      "/v1/payer/passkeys/registration-options",
      payer.token,
      {
        deviceSignature: await phone.sign({ purpose: "add-passkey", payerId: payer.payerId }),
        pin: { loginId: pinLogin.answer.body.loginId, finishLoginRequest: proved.finishLoginRequest },
      },
    );
    expect(
      (await call(t.app, "POST", "/v1/payer/passkeys", payer.token, { response: authenticator.create(options.body) }))
        .status,
    ).toBe(200);
    const approveWith = async (challenge: Challenge, assertion: unknown) =>
      call<{ method: string } & ErrorAnswer>(
        t.app,
        "POST",
        `/v1/payer/approval-challenges/${challenge.id}/approve`,
        payer.token,
        {
          deviceSignature: await signTerms(phone.privateKey, phone.kid, challenge.terms),
          verification: { method: "passkey", assertion },
          releaseKey: (await newReleaseKey()).jwk,
        },
      );
    const a = (await challengeFor(await newPayment())).body;
    const b = (await challengeFor(await newPayment(2000))).body;
    const noUv = await approveWith(
      a,
      authenticator.get({ challenge: approvalChallengeOf(a.terms), rpId: "localhost" }, { userVerified: false }),
    );
    expect(noUv.status).toBe(401);
    const otherTerms = await approveWith(
      a,
      authenticator.get({ challenge: approvalChallengeOf(b.terms), rpId: "localhost" }),
    );
    expect(otherTerms.status).toBe(401);
    const good = await approveWith(
      a,
      authenticator.get({ challenge: approvalChallengeOf(a.terms), rpId: "localhost" }),
    );
    expect([good.status, good.body.method]).toEqual([200, "passkey"]);
  });

  it("refuses approval of a payment no longer awaiting approval", async () => {
    const paymentId = await newPayment();
    const challenge = (await challengeFor(paymentId)).body;
    await call(t.app, "POST", `/v1/payments/${paymentId}/cancel`, t.merchant.secretKey);
    const { answer } = await approveWithPin(challenge);
    expect(answer.body.error.code).toBe("payment_invalid_state");
  });
});

// Two systems on one database need PostgreSQL (a PGlite folder has one owner), so this runs where it is set.
describe.each(testBackends().filter((b) => b === "postgres"))(
  "approval replay across pay-server processes [%s]",
  (backend) => {
    let t: TestPay;
    beforeAll(async () => {
      t = await openTestPay(backend);
    });
    afterAll(() => t.close());

    it("a second process refuses a replayed approval and a revoked device", async () => {
      const payer = await signedInPayer(t.system);
      const phone = await newTestDevice(t.app, payer.token);
      await bindAndSetPin(t.app, payer, phone, PIN);
      const card = await addTestCard(t.system, t.app, payer, phone);
      const newPayment = async () =>
        (await call<{ id: string }>(t.app, "POST", "/v1/payments", t.merchant.secretKey, paymentBody())).body.id;
      const challengeFor = async (paymentId: string) =>
        (
          await call<Challenge>(t.app, "POST", `/v1/payer/payments/${paymentId}/approval-challenges`, payer.token, {
            deviceKey: phone.kid,
            cardId: card.cardId,
          })
        ).body;
      const approveBody = async (challenge: Challenge) => {
        const login = await startLogin(t.app, payer.token, PIN, `approval:${challenge.id}`);
        const finished = await login.finish();
        return {
          deviceSignature: await signTerms(phone.privateKey, phone.kid, challenge.terms),
          verification: {
            method: "pin" as const,
            loginId: login.answer.body.loginId,
            finishLoginRequest: finished.finishLoginRequest,
            challengeMac: await pinChallengeMac(finished.sessionKey, challenge.id, challenge.terms),
          },
          releaseKey: (await newReleaseKey()).jwk,
        };
      };
      const first = await challengeFor(await newPayment());
      const body = await approveBody(first);
      expect(
        (await call(t.app, "POST", `/v1/payer/approval-challenges/${first.id}/approve`, payer.token, body)).status,
      ).toBe(200);
      const second = await openPaySystem({ ...t.config, dbPoolSize: 2 }, pino({ level: "silent" }));
      try {
        const me = await second.payers.authenticate(`Bearer ${payer.token}`);
        await expect(second.approvals.approve(me, first.id, body)).rejects.toMatchObject({
          code: "approval_challenge_used",
        });
        // Revoked through the first process, refused by the second at once (another payment: one approval each).
        const next = await challengeFor(await newPayment());
        const nextBody = await approveBody(next);
        const devices = await call<{ data: Array<{ id: string }> }>(t.app, "GET", "/v1/payer/devices", payer.token);
        await call(t.app, "POST", `/v1/payer/devices/${devices.body.data[0]!.id}/revoke`, payer.token, {
          signature: await phone.sign({
            purpose: "revoke-device",
            payerId: payer.payerId,
            deviceId: devices.body.data[0]!.id,
          }),
        });
        await expect(second.approvals.approve(me, next.id, nextBody)).rejects.toMatchObject({
          code: "approval_signature_invalid",
        });
      } finally {
        await second.close();
      }
    });
  },
);
