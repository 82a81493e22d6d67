/**
 * Authorization over real HTTP with real JWEs and JWSs: approvals and each decline a card causes, replays, a
 * JWE for another payment, terms changed by the acquirer, forged signatures and refused JWE algorithms.
 */
import { randomBytes } from "node:crypto";
import { CompactEncrypt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptTo, signWith } from "@mpay/crypto";
import { authorizationAnswerSchema, authorizationRecordSchema, JOSE_TYPES, type EnrolledCard } from "@mpay/protocol";
import { testCard, type TestCardKind } from "../cards/test-cards.ts";
import { TestDevice } from "../testing/device.ts";
import { authorize, enroll, paymentRequest, termsFor } from "../testing/flows.ts";
import { openTestHost, testBackends, type TestHost } from "../testing/host.ts";

describe.each(testBackends())("authorization [%s]", (backend) => {
  let host: TestHost;
  let device: TestDevice;
  const cards = {} as Record<TestCardKind, EnrolledCard>;
  const openToBuy = async (cardRef: string) =>
    (await host.operator<{ openToBuy: number }>(`/issuers/sampo/backoffice/cards/${cardRef}`)).body.openToBuy;

  beforeAll(async () => {
    host = await openTestHost(backend);
    device = await TestDevice.create();
    for (const kind of ["approves", "mastercard", "lowLimit", "expired", "lost", "fraud"] as const) {
      cards[kind] = await enroll(host, "sampo", device, testCard("sampo", kind));
    }
  });
  afterAll(async () => {
    await host?.close();
  });

  it("approves with a 6-character code, holds the amount, and answers the inquiry", async () => {
    const card = testCard("sampo", "approves");
    const before = await openToBuy(cards.approves.cardRef);
    const terms = termsFor(host, "sampo", cards.approves.cardRef);
    const answer = await authorize(host, "sampo", await paymentRequest(host, device, card, terms));
    expect(answer.status).toBe(200);
    const decision = authorizationAnswerSchema.parse(answer.body);
    expect(decision).toMatchObject({
      paymentId: terms.paymentId,
      decision: "approved",
      authorizationCode: expect.stringMatching(/^[A-Z0-9]{6}$/),
    });
    expect(await openToBuy(cards.approves.cardRef)).toBe(before - terms.amount);

    const inquiry = await host.acquirer("GET", `/issuers/sampo/authorizations/${terms.paymentId}`);
    expect(authorizationRecordSchema.parse(inquiry.body)).toEqual({
      paymentId: terms.paymentId,
      status: "approved",
      decision,
      amount: 35_000,
      amountCaptured: 0,
      amountRefunded: 0,
      currency: "KRW",
    });
    const never = await host.acquirer("GET", "/issuers/sampo/authorizations/pay_never_sent");
    expect(never.status).toBe(404);
    expect(never.body).toMatchObject({ error: { code: "authorization_not_found" } });
  });

  it("declines with the code each test card stands for", async () => {
    const cases: Array<[TestCardKind, string]> = [
      ["lowLimit", "insufficient_funds"],
      ["expired", "expired_card"],
      ["lost", "lost_or_stolen"],
      ["fraud", "suspected_fraud"],
    ];
    for (const [kind, code] of cases) {
      const terms = termsFor(host, "sampo", cards[kind].cardRef);
      const answer = await authorize(host, "sampo", await paymentRequest(host, device, testCard("sampo", kind), terms));
      expect(answer.body, kind).toMatchObject({ decision: "declined", declineCode: code });
      const record = await host.acquirer("GET", `/issuers/sampo/authorizations/${terms.paymentId}`);
      expect(record.body).toMatchObject({ status: "declined", decision: { declineCode: code } });
    }
    // Within its limit the low-limit card approves.
    const small = termsFor(host, "sampo", cards.lowLimit.cardRef, { amount: 30_000 });
    expect(
      (await authorize(host, "sampo", await paymentRequest(host, device, testCard("sampo", "lowLimit"), small))).body,
    ).toMatchObject({ decision: "approved" });
    const unknown = termsFor(host, "sampo", "icr_00000000000000000000000000");
    expect(
      (await authorize(host, "sampo", await paymentRequest(host, device, testCard("sampo", "approves"), unknown))).body,
    ).toMatchObject({ declineCode: "card_not_found" });
  });

  it("answers a replayed JWE, and the same payment sent twice at once, with the first decision and one hold", async () => {
    const card = testCard("sampo", "mastercard");
    const before = await openToBuy(cards.mastercard.cardRef);
    const terms = termsFor(host, "sampo", cards.mastercard.cardRef, { amount: 50_000 });
    const request = await paymentRequest(host, device, card, terms);
    const [a, b] = await Promise.all([authorize(host, "sampo", request), authorize(host, "sampo", request)]);
    const replay = await authorize(host, "sampo", request);
    expect(a.body).toMatchObject({ decision: "approved" });
    expect(b.body).toEqual(a.body);
    expect(replay.body).toEqual(a.body);
    expect(await openToBuy(cards.mastercard.cardRef)).toBe(before - 50_000);
  });

  it("declines a JWE made for payment A when it is sent as payment B", async () => {
    const card = testCard("sampo", "approves");
    const termsA = termsFor(host, "sampo", cards.approves.cardRef);
    const requestA = await paymentRequest(host, device, card, termsA);
    const asB = { ...requestA, paymentId: "pay_B_" + randomBytes(6).toString("hex") };
    const answer = await authorize(host, "sampo", asB);
    expect(answer.body).toMatchObject({
      paymentId: asB.paymentId,
      decision: "declined",
      declineCode: "terms_mismatch",
    });
    // Payment A itself is untouched and still approves.
    expect((await authorize(host, "sampo", requestA)).body).toMatchObject({
      paymentId: termsA.paymentId,
      decision: "approved",
    });
  });

  it("declines when the acquirer changes the amount, the merchant or its name", async () => {
    const card = testCard("sampo", "approves");
    const before = await openToBuy(cards.approves.cardRef);
    for (const change of [
      { amount: 3_500 },
      { merchantId: "mch_evil" },
      { merchantName: "Evil Mall" },
      { captureMethod: "automatic" },
      { currency: "USD" },
    ]) {
      const terms = termsFor(host, "sampo", cards.approves.cardRef);
      const request = { ...(await paymentRequest(host, device, card, terms)), ...change };
      expect((await authorize(host, "sampo", request)).body, JSON.stringify(change)).toMatchObject({
        decision: "declined",
        declineCode: "terms_mismatch",
      });
    }
    expect(await openToBuy(cards.approves.cardRef)).toBe(before);
  });

  it("declines a signature that does not verify, terms for another issuer, and expired terms", async () => {
    const card = testCard("sampo", "approves");
    const certificate = host.certificate("sampo");
    // Signed by another key under the bound device's kid: the signature does not verify.
    const forger = await TestDevice.create();
    const terms = termsFor(host, "sampo", cards.approves.cardRef);
    const forgedJws = await signWith(
      new TextEncoder().encode(JSON.stringify({ terms, card: { pan: card.pan, expiry: card.expiry } })),
      forger.privateKey,
      { typ: JOSE_TYPES.payment, kid: device.kid },
    );
    const forged = {
      ...(await paymentRequest(host, device, card, terms)),
      payment: await encryptTo(
        new TextEncoder().encode(forgedJws),
        { ...certificate.jwk },
        { typ: JOSE_TYPES.paymentEnvelope },
      ),
    };
    expect((await authorize(host, "sampo", forged)).body).toMatchObject({ declineCode: "bad_signature" });
    // A device that was never bound.
    const stranger = termsFor(host, "sampo", cards.approves.cardRef);
    expect((await authorize(host, "sampo", await paymentRequest(host, forger, card, stranger))).body).toMatchObject({
      declineCode: "bad_signature",
    });

    const elsewhere = termsFor(host, "sampo", cards.approves.cardRef, { aud: "kstar" });
    const request = await paymentRequest(host, device, card, { ...elsewhere, aud: "sampo" }, { signed: elsewhere });
    expect((await authorize(host, "sampo", request)).body).toMatchObject({ declineCode: "terms_mismatch" });

    const old = termsFor(host, "sampo", cards.approves.cardRef, {
      iat: host.clock.seconds() - 400,
      exp: host.clock.seconds() - 100,
    });
    expect((await authorize(host, "sampo", await paymentRequest(host, device, card, old))).body).toMatchObject({
      declineCode: "terms_expired",
    });
    const wrongCard = termsFor(host, "sampo", cards.approves.cardRef);
    expect(
      (await authorize(host, "sampo", await paymentRequest(host, device, testCard("sampo", "mastercard"), wrongCard)))
        .body,
    ).toMatchObject({ declineCode: "terms_mismatch" });
  });

  it("refuses RSA1_5, dir and PBES2 JWEs, for payments and enrollments", async () => {
    const card = testCard("sampo", "approves");
    const header = (alg: string) =>
      Buffer.from(JSON.stringify({ alg, enc: "A256GCM", typ: JOSE_TYPES.paymentEnvelope })).toString("base64url");
    const plaintext = new TextEncoder().encode("a.b.c");
    const envelopes = [
      `${header("RSA1_5")}.${randomBytes(256).toString("base64url")}.${randomBytes(12).toString("base64url")}.${randomBytes(32).toString("base64url")}.${randomBytes(16).toString("base64url")}`,
      await new CompactEncrypt(plaintext)
        .setProtectedHeader({ alg: "dir", enc: "A256GCM", typ: JOSE_TYPES.paymentEnvelope })
        .encrypt(randomBytes(32)),
      await new CompactEncrypt(plaintext)
        .setProtectedHeader({ alg: "PBES2-HS256+A128KW", enc: "A256GCM", typ: JOSE_TYPES.paymentEnvelope })
        .encrypt(new TextEncoder().encode("password")),
    ];
    for (const payment of envelopes) {
      const terms = termsFor(host, "sampo", cards.approves.cardRef);
      const request = { ...(await paymentRequest(host, device, card, terms)), payment };
      expect((await authorize(host, "sampo", request)).body).toMatchObject({
        decision: "declined",
        declineCode: "bad_signature",
      });
      const enrollment = await host.acquirer("POST", "/issuers/sampo/enrollments", {
        enrollment: payment,
        payerRef: "usr_alg",
      });
      expect(enrollment.body).toMatchObject({ error: { code: "enrollment_refused" } });
    }
  });

  it("refuses an authorization without the acquirer secret and records nothing", async () => {
    const terms = termsFor(host, "sampo", cards.approves.cardRef);
    const request = await paymentRequest(host, device, testCard("sampo", "approves"), terms);
    for (const secret of [null, "x".repeat(43)])
      expect((await host.acquirer("POST", "/issuers/sampo/authorizations", request, secret)).status).toBe(401);
    expect((await host.acquirer("GET", `/issuers/sampo/authorizations/${terms.paymentId}`)).status).toBe(404);
    expect(
      (await host.acquirer("GET", `/issuers/sampo/authorizations/${terms.paymentId}`, undefined, null)).status,
    ).toBe(401);
    const books = await host.operator<{ balanced: boolean }>("/issuers/sampo/backoffice/books");
    expect(books.body.balanced).toBe(true);
  });
});
