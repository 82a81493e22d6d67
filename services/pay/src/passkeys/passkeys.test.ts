import { sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApprovalTerms } from "@mpay/protocol";
import { assertionResponse, FLAG, SoftPasskey } from "@mpay/testing/webauthn";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { bindAndSetPin, newTestDevice, startLogin, type TestDevice } from "../testing/payer-device.ts";
import { SoftwareAuthenticator, type CeremonyOverrides } from "../testing/software-authenticator.ts";
import { call, openTestPay, signedInPayer, type TestPay } from "../testing/system.ts";
import { approvalChallengeOf, type PasskeyService } from "./service.ts";

const PIN = "640183";

type ErrorAnswer = { error: { code: string; message: string } };
type PasskeyAnswer = {
  id: string;
  status: "active" | "revoked";
  deviceType: string;
  backedUp: boolean;
  transports: string[];
} & ErrorAnswer;

const RP = { rpId: "localhost", rpName: "MPay", origins: ["http://localhost:4300"] };
const ORIGIN = "http://localhost:4300";

function termsFor(overrides: Partial<ApprovalTerms> = {}): ApprovalTerms {
  const now = Math.floor(Date.now() / 1000);
  return {
    aud: "iss_test",
    cardRef: "card_ref_1",
    paymentId: "pay_01JTESTPAYMENT000000000000",
    merchantId: "mch_01JTESTMERCHANT00000000000",
    merchantName: "Test Shop",
    amount: 35000,
    currency: "KRW",
    captureMethod: "manual",
    nonce: "bm9uY2Utbm9uY2Utbm9uY2U",
    iat: now,
    exp: now + 300,
    ...overrides,
  };
}

describe.each(testBackends())("passkeys [%s]", (backend) => {
  let t: TestPay;
  let passkeys: PasskeyService;
  let app: FastifyInstance;
  beforeAll(async () => {
    t = await openTestPay(backend, { passkeys: RP });
    passkeys = t.system.passkeys;
    app = t.app;
  });
  afterAll(() => t.close());

  /** A signed-in payer with one bound, active device and a PIN. */
  async function payerWithDevice(name = "Test Payer") {
    const session = await signedInPayer(t.system, name);
    const device = await newTestDevice(t.app, session.token);
    await bindAndSetPin(t.app, session, device, PIN);
    const payer = await t.system.payers.authenticate(`Bearer ${session.token}`);
    return { ...session, device, payer };
  }
  type Payer = Awaited<ReturnType<typeof payerWithDevice>>;

  /** A finished PIN login for `purpose`, as the wallet proves the PIN before adding a passkey. */
  const pinProof = async (p: Payer, pin = PIN, purpose = "add-passkey") => {
    const login = await startLogin(app, p.token, pin, purpose);
    const finished = await login.finish();
    finished.sessionKey.fill(0);
    return { loginId: login.answer.body.loginId, finishLoginRequest: finished.finishLoginRequest };
  };

  const registrationOptions = async (p: Payer, device: TestDevice = p.device) =>
    call<PublicKeyCredentialCreationOptionsJSON & ErrorAnswer>(
      app,
      "POST",
      "/v1/payer/passkeys/registration-options",
      p.token,
      {
        deviceSignature: await device.sign({ purpose: "add-passkey", payerId: p.payerId }),
        pin: await pinProof(p),
      },
    );

  async function register(
    p: Payer,
    authenticator = new SoftwareAuthenticator(ORIGIN),
    overrides: CeremonyOverrides = {},
  ) {
    const options = await registrationOptions(p);
    expect(options.status).toBe(200);
    const response = authenticator.create(options.body, overrides);
    const answer = await call<PasskeyAnswer>(app, "POST", "/v1/payer/passkeys", p.token, { response });
    return { authenticator, options: options.body, response, answer };
  }

  /** A payer with a registered passkey, and an `approve` that asserts over `terms` and verifies it. */
  async function payerWithPasskey() {
    const p = await payerWithDevice();
    const { authenticator, answer } = await register(p);
    expect(answer.status).toBe(200);
    const assert = (terms: ApprovalTerms, overrides: CeremonyOverrides = {}) =>
      authenticator.get({ challenge: approvalChallengeOf(terms), rpId: RP.rpId }, overrides);
    return { ...p, authenticator, passkeyId: answer.body.id, assert };
  }

  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => "accepted",
      (error: unknown) => (error as { code?: string }).code ?? String(error),
    );
  const signCount = async (id: string) =>
    (
      await queryRows<{ n: string }>(t.system.database.db, sql`select sign_count as n from passkeys where id = ${id}`)
    )[0]?.n;
  const auditCount = async (action: string, target: string) => {
    await t.system.audit.seal(); // appends reach audit_log when sealed (audit/service.ts)
    return Number(
      (
        await queryRows<{ n: number }>(
          t.system.database.db,
          sql`select count(*)::int as n from audit_log where action = ${action} and target = ${target}`,
        )
      )[0]?.n,
    );
  };

  it("registers a passkey with user verification required and approves terms with it", async () => {
    const p = await payerWithDevice();
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const { options, answer } = await register(p, authenticator);
    expect(options).toMatchObject({
      rp: { id: "localhost", name: "MPay" },
      user: { id: Buffer.from(p.payerId).toString("base64url"), name: "Test Payer" },
      attestation: "none",
      authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
      excludeCredentials: [],
    });
    expect(options.pubKeyCredParams.map((c) => c.alg)).toEqual([-7, -257]);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      id: authenticator.credentialIds()[0],
      status: "active",
      deviceType: "singleDevice",
      backedUp: false,
      transports: ["internal", "hybrid"],
    });
    expect(await auditCount("passkey.added", answer.body.id)).toBe(1);

    const terms = termsFor();
    const assertion = authenticator.get({ challenge: approvalChallengeOf(terms), rpId: RP.rpId });
    await expect(passkeys.verifyApproval(p.payer, assertion, approvalChallengeOf(terms))).resolves.toEqual({
      passkeyId: answer.body.id,
    });
    expect(Number(await signCount(answer.body.id))).toBe(1);

    // The next registration excludes it, so the same authenticator does not make a second one.
    const again = await registrationOptions(p);
    expect(again.body.excludeCredentials?.map((c) => c.id)).toEqual([answer.body.id]);
    expect(() => authenticator.create(again.body)).toThrow(/InvalidStateError/);
    const listed = await call<{ data: PasskeyAnswer[] }>(app, "GET", "/v1/payer/passkeys", p.token);
    expect(listed.body.data.map((k) => [k.id, k.status])).toEqual([[answer.body.id, "active"]]);
    expect((await t.system.audit.verify()).ok).toBe(true);
  });

  it("the approval challenge is the base64url SHA-256 of the canonical terms, so one field changes it", () => {
    const terms = termsFor();
    expect(approvalChallengeOf(terms)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(approvalChallengeOf({ ...terms })).toBe(approvalChallengeOf(terms));
    // Key order does not matter (RFC 8785), a value does.
    const reordered = Object.fromEntries(Object.entries(terms).reverse()) as ApprovalTerms;
    expect(approvalChallengeOf(reordered)).toBe(approvalChallengeOf(terms));
    expect(approvalChallengeOf({ ...terms, amount: 35001 })).not.toBe(approvalChallengeOf(terms));
  });

  it("refuses an assertion whose UV flag is off, and a registration without user verification", async () => {
    const p = await payerWithPasskey();
    const terms = termsFor();
    const code = await refusal(
      passkeys.verifyApproval(p.payer, p.assert(terms, { userVerified: false }), approvalChallengeOf(terms)),
    );
    expect(code).toBe("passkey_user_verification_required");
    expect(Number(await signCount(p.passkeyId))).toBe(0);

    const { answer } = await register(p, new SoftwareAuthenticator(ORIGIN), { userVerified: false });
    expect([answer.status, answer.body.error.code]).toEqual([401, "passkey_user_verification_required"]);
    expect((await passkeys.list(p.payer)).length).toBe(1);
  });

  it("refuses an assertion over other terms", async () => {
    const p = await payerWithPasskey();
    const signed = termsFor();
    for (const other of [
      termsFor({ amount: 1 }),
      termsFor({ merchantId: "mch_01JOTHERMERCHANT0000000000" }),
      termsFor({ paymentId: "pay_01JOTHERPAYMENT00000000000" }),
      { ...signed, nonce: "b3RoZXItbm9uY2Utb3RoZXI" },
    ]) {
      const code = await refusal(passkeys.verifyApproval(p.payer, p.assert(signed), approvalChallengeOf(other)));
      expect(code).toBe("passkey_invalid");
    }
    expect(Number(await signCount(p.passkeyId))).toBe(0);
  });

  it("refuses another payer's passkey", async () => {
    const alice = await payerWithPasskey();
    const bob = await payerWithDevice("Bob");
    const terms = termsFor();
    expect(await refusal(passkeys.verifyApproval(bob.payer, alice.assert(terms), approvalChallengeOf(terms)))).toBe(
      "passkey_invalid",
    );
    // A credential id nobody registered.
    const unknown = { ...alice.assert(terms), id: "bm90LXJlZ2lzdGVyZWQ", rawId: "bm90LXJlZ2lzdGVyZWQ" };
    expect(await refusal(passkeys.verifyApproval(alice.payer, unknown, approvalChallengeOf(terms)))).toBe(
      "passkey_invalid",
    );
    expect(Number(await signCount(alice.passkeyId))).toBe(0);
  });

  it("refuses another origin and another RP ID, for assertions and registrations", async () => {
    const p = await payerWithPasskey();
    const terms = termsFor();
    const challenge = approvalChallengeOf(terms);
    expect(
      await refusal(
        passkeys.verifyApproval(p.payer, p.assert(terms, { origin: "https://wallet.evil.example" }), challenge),
      ),
    ).toBe("passkey_invalid");
    expect(await refusal(passkeys.verifyApproval(p.payer, p.assert(terms, { rpId: "evil.example" }), challenge))).toBe(
      "passkey_invalid",
    );
    expect(Number(await signCount(p.passkeyId))).toBe(0);

    const phished = await register(p, new SoftwareAuthenticator("https://wallet.evil.example"));
    expect([phished.answer.status, phished.answer.body.error.code]).toEqual([401, "passkey_invalid"]);
    const otherRp = await register(p, new SoftwareAuthenticator(ORIGIN), { rpId: "evil.example" });
    expect(otherRp.answer.body.error.code).toBe("passkey_invalid");
    expect((await passkeys.list(p.payer)).length).toBe(1);
  });

  it("refuses a replayed or non-increasing sign counter, and audits it", async () => {
    const p = await payerWithPasskey();
    const terms = termsFor();
    const challenge = approvalChallengeOf(terms);
    const first = p.assert(terms, { signCount: 5 });
    expect(await refusal(passkeys.verifyApproval(p.payer, first, challenge))).toBe("accepted");
    expect(await refusal(passkeys.verifyApproval(p.payer, first, challenge))).toBe("passkey_counter_invalid");
    expect(await refusal(passkeys.verifyApproval(p.payer, p.assert(terms, { signCount: 5 }), challenge))).toBe(
      "passkey_counter_invalid",
    );
    expect(await refusal(passkeys.verifyApproval(p.payer, p.assert(terms, { signCount: 3 }), challenge))).toBe(
      "passkey_counter_invalid",
    );
    expect(await refusal(passkeys.verifyApproval(p.payer, p.assert(terms, { signCount: 0 }), challenge))).toBe(
      "passkey_counter_invalid",
    );
    expect(Number(await signCount(p.passkeyId))).toBe(5);
    expect(await auditCount("passkey.counter_rejected", p.passkeyId)).toBe(4);

    // Two processes verifying assertions with the same counter at once: one wins, atomically.
    const [a, b] = [p.assert(terms, { signCount: 9 }), p.assert(terms, { signCount: 9 })];
    const outcomes = await Promise.all([
      refusal(passkeys.verifyApproval(p.payer, a, challenge)),
      refusal(passkeys.verifyApproval(p.payer, b, challenge)),
    ]);
    expect(outcomes.sort()).toEqual(["accepted", "passkey_counter_invalid"]);
    expect(Number(await signCount(p.passkeyId))).toBe(9);
  });

  it("accepts an authenticator that keeps no counter (always 0): single use is then the approval challenge's", async () => {
    const p = await payerWithPasskey();
    const terms = termsFor();
    for (let i = 0; i < 2; i++) {
      expect(
        await refusal(passkeys.verifyApproval(p.payer, p.assert(terms, { signCount: 0 }), approvalChallengeOf(terms))),
      ).toBe("accepted");
    }
  });

  it("verifies an assertion the node:crypto path leaves to @simplewebauthn (extensions in the authenticator data)", async () => {
    const p = await payerWithDevice();
    // A passkey stored as registration stores one, made here so that the test signs what it likes.
    const passkey = new SoftPasskey(0, 16);
    const id = passkey.id;
    await t.system.database.db.execute(
      sql`insert into passkeys (id, payer_id, public_key, device_type) values (${id}, ${p.payerId}, ${passkey.cosePublicKey}, 'singleDevice')`,
    );
    const terms = termsFor();
    const challenge = approvalChallengeOf(terms);
    const withExtensions = (signCount: number, signer = passkey.privateKey) =>
      assertionResponse({
        credentialId: id,
        privateKey: signer,
        rpId: RP.rpId,
        origin: ORIGIN,
        challenge,
        signCount,
        flags: FLAG.UP | FLAG.UV | FLAG.ED, // extension data follows
        extensions: Buffer.from([0xa1, 0x6b, ...Buffer.from("credProtect"), 0x02]), // {"credProtect": 2}
      });
    const stranger = new SoftPasskey().privateKey;
    expect(await refusal(passkeys.verifyApproval(p.payer, withExtensions(3, stranger), challenge))).toBe(
      "passkey_invalid",
    );
    expect(await refusal(passkeys.verifyApproval(p.payer, withExtensions(3), challenge))).toBe("accepted");
    expect(Number(await signCount(id))).toBe(3);
    expect(await refusal(passkeys.verifyApproval(p.payer, withExtensions(3), challenge))).toBe(
      "passkey_counter_invalid",
    );
  });

  it("refuses a registration with the device's word alone: a copy of a device store adds no passkey without the PIN", async () => {
    const p = await payerWithDevice();
    const signed = async () => p.device.sign({ purpose: "add-passkey", payerId: p.payerId });
    const noPin = await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys/registration-options", p.token, {
      deviceSignature: await signed(),
    });
    expect([noPin.status, noPin.body.error.code]).toEqual([400, "parameter_missing"]);
    // A wrong PIN cannot finish the login; a login proved for another purpose does not count.
    const wrong = await startLogin(app, p.token, "000000", "add-passkey");
    await expect(wrong.finish()).rejects.toBeTruthy();
    const otherPurpose = await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys/registration-options", p.token, {
      deviceSignature: await signed(),
      pin: await pinProof(p, PIN, "pin-check"),
    });
    expect([otherPurpose.status, otherPurpose.body.error.code]).toEqual([401, "pin_login_invalid"]);
    expect(await passkeys.list(p.payer)).toEqual([]);
    // With the PIN it works, and the proof is spent.
    const proof = await pinProof(p);
    const ok = await call(app, "POST", "/v1/payer/passkeys/registration-options", p.token, {
      deviceSignature: await signed(),
      pin: proof,
    });
    expect(ok.status).toBe(200);
    const replay = await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys/registration-options", p.token, {
      deviceSignature: await signed(),
      pin: proof,
    });
    expect(replay.body.error.code).toBe("pin_login_invalid");
  });

  it("refuses a registration without an active device's signature", async () => {
    const p = await payerWithDevice();
    const stranger = await newTestDevice(t.app, p.token);
    const now = Math.floor(Date.now() / 1000);
    // The device is checked before the PIN: these never reach a PIN login, so any proof shape will do.
    const pin = { loginId: "pl_unused", finishLoginRequest: "AAAA" };
    const cases: Array<[string, unknown]> = [
      [
        "signed by a key that is not bound",
        { pin, deviceSignature: await stranger.sign({ purpose: "add-passkey", payerId: p.payerId }) },
      ],
      ["another action", { pin, deviceSignature: await p.device.sign({ purpose: "set-pin", payerId: p.payerId }) }],
      [
        "for another payer",
        { pin, deviceSignature: await p.device.sign({ purpose: "add-passkey", payerId: "usr_someone" }) },
      ],
      [
        "stale",
        { pin, deviceSignature: await p.device.sign({ purpose: "add-passkey", payerId: p.payerId }, now - 600) },
      ],
      ["not a JWS", { pin, deviceSignature: "not.a.jws" }],
    ];
    for (const [why, body] of cases) {
      const answer = await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys/registration-options", p.token, body);
      expect([answer.status, answer.body.error.code], why).toEqual([401, "device_signature_invalid"]);
    }
    // The messenger session alone: no signature at all.
    const alone = await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys/registration-options", p.token, {});
    expect([alone.status, alone.body.error.code]).toEqual([400, "parameter_missing"]);
    // A signature without the session.
    const noSession = await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys/registration-options", null, {
      deviceSignature: await p.device.sign({ purpose: "add-passkey", payerId: p.payerId }),
      pin: { loginId: "pl_x", finishLoginRequest: "AAAA" },
    });
    expect([noSession.status, noSession.body.error.code]).toEqual([401, "payer_session_invalid"]);
    // A revoked device's signature.
    const [device] = await t.system.devices.list(p.payer);
    await t.system.devices.revoke(p.payer, device!.id, {
      signature: await p.device.sign({ purpose: "revoke-device", payerId: p.payerId, deviceId: device!.id }),
    });
    expect((await registrationOptions(p)).body.error.code).toBe("device_not_active");
    // And a registration response with no challenge issued for it.
    const unasked = new SoftwareAuthenticator(ORIGIN).create({
      challenge: Buffer.alloc(32, 7).toString("base64url"),
      rp: { id: RP.rpId, name: RP.rpName },
      user: { id: Buffer.from(p.payerId).toString("base64url"), name: "x", displayName: "x" },
      pubKeyCredParams: [{ alg: -7, type: "public-key" }],
    });
    expect(
      (await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys", p.token, { response: unasked })).body.error.code,
    ).toBe("passkey_challenge_invalid");
    expect(await passkeys.list(p.payer)).toEqual([]);
  });

  it("refuses a revoked passkey, at once", async () => {
    const p = await payerWithPasskey();
    const other = await payerWithDevice("Other");
    const terms = termsFor();
    expect(
      (await call<ErrorAnswer>(app, "POST", `/v1/payer/passkeys/${p.passkeyId}/revoke`, other.token)).body.error.code,
    ).toBe("resource_missing");
    const revoked = await call<PasskeyAnswer>(app, "POST", `/v1/payer/passkeys/${p.passkeyId}/revoke`, p.token);
    expect([revoked.status, revoked.body.status]).toEqual([200, "revoked"]);
    expect(await refusal(passkeys.verifyApproval(p.payer, p.assert(terms), approvalChallengeOf(terms)))).toBe(
      "passkey_invalid",
    );
    expect(Number(await signCount(p.passkeyId))).toBe(0);
    const twice = await call<ErrorAnswer>(app, "POST", `/v1/payer/passkeys/${p.passkeyId}/revoke`, p.token);
    expect([twice.status, twice.body.error.code]).toEqual([403, "passkey_not_active"]);
    expect(await auditCount("passkey.revoked", p.passkeyId)).toBe(1);
    // A revoked credential is not excluded: the authenticator may make a new one in its place.
    expect((await registrationOptions(p)).body.excludeCredentials).toEqual([]);
  });

  it("spends a registration challenge once, and only the newest one counts", async () => {
    const p = await payerWithDevice();
    const { response, answer } = await register(p);
    expect(answer.status).toBe(200);
    const replay = await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys", p.token, { response });
    expect([replay.status, replay.body.error.code]).toEqual([401, "passkey_challenge_invalid"]);

    // A second credential made over options already used: refused.
    const options = await registrationOptions(p);
    const firstTry = new SoftwareAuthenticator(ORIGIN).create(options.body);
    const secondTry = new SoftwareAuthenticator(ORIGIN).create(options.body);
    expect((await call(app, "POST", "/v1/payer/passkeys", p.token, { response: firstTry })).status).toBe(200);
    expect(
      (await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys", p.token, { response: secondTry })).body.error.code,
    ).toBe("passkey_challenge_invalid");

    // Newer options replace older ones; an expired challenge is refused.
    const older = await registrationOptions(p);
    const newer = await registrationOptions(p);
    expect(
      (
        await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys", p.token, {
          response: new SoftwareAuthenticator(ORIGIN).create(older.body),
        })
      ).body.error.code,
    ).toBe("passkey_challenge_invalid");
    await t.system.database.db.execute(
      sql`update passkey_challenges set expires_at = now() - interval '1 second' where challenge = ${newer.body.challenge}`,
    );
    expect(
      (
        await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys", p.token, {
          response: new SoftwareAuthenticator(ORIGIN).create(newer.body),
        })
      ).body.error.code,
    ).toBe("passkey_challenge_invalid");

    // Another payer cannot finish this payer's registration.
    const other = await payerWithDevice("Other");
    const mine = await registrationOptions(p);
    expect(
      (
        await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys", other.token, {
          response: new SoftwareAuthenticator(ORIGIN).create(mine.body),
        })
      ).body.error.code,
    ).toBe("passkey_challenge_invalid");
    expect((await passkeys.list(p.payer)).length).toBe(2);
    expect(await passkeys.list(other.payer)).toEqual([]);
  });

  it("refuses malformed assertions and registration responses without a stack or the input in the answer", async () => {
    const p = await payerWithPasskey();
    for (const junk of [null, "x", {}, { id: p.passkeyId }, { ...p.assert(termsFor()), type: "password" }]) {
      expect(await refusal(passkeys.verifyApproval(p.payer, junk, approvalChallengeOf(termsFor())))).toBe(
        "passkey_invalid",
      );
    }
    const options = await registrationOptions(p);
    const response = new SoftwareAuthenticator(ORIGIN).create(options.body);
    const broken = { ...response, response: { ...response.response, attestationObject: "AAAA" } };
    const answer = await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys", p.token, { response: broken });
    expect([answer.status, answer.body.error.code]).toEqual([401, "passkey_invalid"]);
    expect(answer.raw).not.toContain("AAAA");
    expect(answer.raw).not.toMatch(/at .*\.ts:\d+/);
    const unknownField = await call<ErrorAnswer>(app, "POST", "/v1/payer/passkeys", p.token, { response, extra: 1 });
    expect(unknownField.body.error.code).toBe("parameter_unknown");
  });
});

describe("passkeys off: the web app at an IP address, where browsers allow none [pglite]", () => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay("pglite", { passkeys: null });
  });
  afterAll(() => t.close());

  it("answers passkeys_unavailable for adding one and for a passkey approval, naming the cause", async () => {
    const session = await signedInPayer(t.system, "Off Payer");
    const device = await newTestDevice(t.app, session.token);
    await bindAndSetPin(t.app, session, device, PIN);
    const login = await startLogin(t.app, session.token, PIN, "add-passkey");
    const finished = await login.finish();
    finished.sessionKey.fill(0);
    const answer = await call<ErrorAnswer>(t.app, "POST", "/v1/payer/passkeys/registration-options", session.token, {
      deviceSignature: await device.sign({ purpose: "add-passkey", payerId: session.payerId }),
      pin: { loginId: login.answer.body.loginId, finishLoginRequest: finished.finishLoginRequest },
    });
    expect([answer.status, answer.body.error.code]).toEqual([409, "passkeys_unavailable"]);
    expect(answer.body.error.message).toMatch(/MPAY_WEB_URL\) is an IP address/);
    const payer = await t.system.payers.authenticate(`Bearer ${session.token}`);
    await expect(t.system.passkeys.verifyApproval(payer, {}, approvalChallengeOf(termsFor()))).rejects.toMatchObject({
      code: "passkeys_unavailable",
    });
  });
});
