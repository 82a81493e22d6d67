/** Card enrollment over real HTTP: the cardholder check, one refusal for every wrong field, limits, one-time codes. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolledCardSchema, enrollmentStartedSchema } from "@mpay/protocol";
import { testCard } from "../cards/test-cards.ts";
import { TestDevice } from "../testing/device.ts";
import { enroll, latestCode, startEnrollment } from "../testing/flows.ts";
import { openTestHost, testBackends, type TestHost } from "../testing/host.ts";

describe.each(testBackends())("enrollment [%s]", (backend) => {
  let host: TestHost;
  beforeAll(async () => {
    host = await openTestHost(backend);
  });
  afterAll(async () => {
    await host?.close();
  });

  it("enrolls a card with the code sent to the phone on file, and binds the device", async () => {
    const card = testCard("sampo", "approves");
    const device = await TestDevice.create();
    const started = await startEnrollment(host, "sampo", device, card);
    expect(started.status).toBe(201);
    const body = enrollmentStartedSchema.parse(started.body);
    expect(body.codeSentTo).toBe("+82 10-****-0001");
    expect(new Date(body.expiresAt).getTime() - host.clock.now().getTime()).toBeLessThanOrEqual(300_000);

    const inbox = await host.get<{ messages: Array<{ code: string; text: string; issuerId: string }> }>(
      `/test-inbox?phone=${encodeURIComponent("+82 10-5551-0001")}`,
    );
    expect(inbox.body.messages[0]).toMatchObject({ issuerId: "sampo" });
    expect(inbox.body.messages[0]?.text).toContain("ending 0016");
    const code = inbox.body.messages[0]!.code;
    expect(code).toMatch(/^\d{6}$/);

    const verified = await host.acquirer("POST", `/issuers/sampo/enrollments/${body.enrollmentId}/verify`, { code });
    expect(verified.status).toBe(200);
    const enrolled = enrolledCardSchema.parse(verified.body);
    expect(enrolled).toMatchObject({ brand: "visa", last4: "0016", expiryMonth: "2031-12", deviceKid: device.kid });
    expect(enrolled.cardRef).toMatch(/^icr_[0-9A-Z]{26}$/);
    expect(enrolled.cardRef).not.toContain("0016");

    // Single use: the same code again is refused.
    const again = await host.acquirer("POST", `/issuers/sampo/enrollments/${body.enrollmentId}/verify`, { code });
    expect(again.status).toBe(410);
    expect(again.body).toEqual({ error: { code: "enrollment_expired", message: expect.any(String) } });
  });

  it("gives the same refusal for a wrong CVC, expiry, PAN, or a BIN of another issuer", async () => {
    const card = testCard("sampo", "mastercard");
    const device = await TestDevice.create();
    const wrong = [
      { ...card, cvc: card.cvc === "000" ? "001" : "000" },
      { ...card, expiry: "11/31" },
      { ...card, pan: "5111000000000039" }, // Luhn-valid, in range, no such account
      { ...card, pan: "4222000000000012" }, // a KStar card, not ours
    ];
    const answers = [];
    for (const attempt of wrong)
      answers.push(await startEnrollment(host, "sampo", device, attempt, { payerRef: "usr_wrong_fields" }));
    for (const answer of answers) {
      expect(answer.status).toBe(422);
      expect(answer.body).toEqual(answers[0]!.body);
    }
    expect(answers[0]!.body).toEqual({
      error: {
        code: "enrollment_refused",
        message: "The card could not be enrolled. Check the card details and try again.",
      },
    });
    // A bad envelope is the same refusal too.
    const junk = await host.acquirer("POST", "/issuers/sampo/enrollments", {
      enrollment: "a.b.c.d.e",
      payerRef: "usr_wrong_fields",
    });
    expect(junk.body).toEqual(answers[0]!.body);
  });

  it("refuses a stolen PAN and CVC without the phone, and cuts repeated tries off", async () => {
    const card = testCard("sampo", "local");
    const thief = await TestDevice.create();
    // With the right card data the code goes to the cardholder's phone; the thief guesses.
    for (let i = 0; i < 2; i++) {
      const started = await startEnrollment(host, "sampo", thief, card, { payerRef: `usr_thief_${i}` });
      expect(started.status).toBe(201);
      for (const guess of ["000000", "111111", "222222"]) {
        const answer = await host.acquirer(
          "POST",
          `/issuers/sampo/enrollments/${String(started.body["enrollmentId"])}/verify`,
          { code: guess },
        );
        expect(answer.body).toMatchObject({
          error: { code: expect.stringMatching(/verification_code_invalid|enrollment_expired|enrollment_locked/) },
        });
      }
    }
    // Six wrong codes on this card in a day: the card refuses enrollment, whoever asks, even with the right data.
    const owner = await TestDevice.create();
    const locked = await startEnrollment(host, "sampo", owner, card, { payerRef: "usr_owner" });
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ error: { code: "enrollment_locked" } });
    // A day later it opens again.
    host.clock.advance(24 * 3600 + 60);
    const later = await startEnrollment(host, "sampo", owner, card, { payerRef: "usr_owner" });
    expect(later.status).toBe(201);
  });

  it("locks a card after five refused attempts, and counts cards it does not have the same way", async () => {
    const card = testCard("sampo", "lowLimit");
    const device = await TestDevice.create();
    for (let i = 0; i < 5; i++) {
      const answer = await startEnrollment(
        host,
        "sampo",
        device,
        { ...card, cvc: String(100 + i) === card.cvc ? "999" : String(100 + i) },
        { payerRef: `usr_guess_${i}` },
      );
      expect(answer.body).toMatchObject({ error: { code: "enrollment_refused" } });
    }
    const right = await startEnrollment(host, "sampo", await TestDevice.create(), card, {
      payerRef: "usr_guess_right",
    });
    expect(right.body).toMatchObject({ error: { code: "enrollment_locked" } });

    const madeUp = { ...card, pan: "4111009999999997" };
    for (let i = 0; i < 5; i++) await startEnrollment(host, "sampo", device, madeUp, { payerRef: `usr_madeup_${i}` });
    expect((await startEnrollment(host, "sampo", device, madeUp, { payerRef: "usr_madeup_x" })).body).toMatchObject({
      error: { code: "enrollment_locked" },
    });
  });

  it("limits failures per device key and per payer", async () => {
    const card = testCard("sampo", "expired");
    const device = await TestDevice.create();
    // Ten refusals from one device, spread over cards so no card locks first.
    const cards = [
      testCard("sampo", "approves"),
      testCard("sampo", "mastercard"),
      testCard("sampo", "lost"),
      testCard("sampo", "fraud"),
    ];
    for (let i = 0; i < 10; i++)
      await startEnrollment(
        host,
        "sampo",
        device,
        { ...cards[i % 4]!, expiry: "10/30" },
        { payerRef: `usr_device_${i}` },
      );
    expect((await startEnrollment(host, "sampo", device, card, { payerRef: "usr_device_x" })).body).toMatchObject({
      error: { code: "enrollment_locked" },
    });
    host.clock.advance(24 * 3600 + 60);

    for (let i = 0; i < 10; i++)
      await startEnrollment(
        host,
        "sampo",
        await TestDevice.create(),
        { ...cards[i % 4]!, expiry: "10/30" },
        { payerRef: "usr_payer_limited" },
      );
    expect(
      (await startEnrollment(host, "sampo", await TestDevice.create(), card, { payerRef: "usr_payer_limited" })).body,
    ).toMatchObject({ error: { code: "enrollment_locked" } });
    host.clock.advance(24 * 3600 + 60);
  });

  it("refuses a wrong code, then an expired one, and spends the enrollment after three wrong codes", async () => {
    const card = testCard("sampo", "fraud");
    const first = await startEnrollment(host, "sampo", await TestDevice.create(), card, { payerRef: "usr_codes" });
    const id = String(first.body["enrollmentId"]);
    const code = await latestCode(host, card.phone);
    const wrongCode = code === "123456" ? "654321" : "123456";
    const wrong = await host.acquirer("POST", `/issuers/sampo/enrollments/${id}/verify`, { code: wrongCode });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toEqual({
      error: { code: "verification_code_invalid", message: "The code is wrong; 2 tries left." },
    });
    host.clock.advance(301);
    const expired = await host.acquirer("POST", `/issuers/sampo/enrollments/${id}/verify`, { code });
    expect(expired.body).toMatchObject({ error: { code: "enrollment_expired" } });

    const second = await startEnrollment(host, "sampo", await TestDevice.create(), card, { payerRef: "usr_codes" });
    const id2 = String(second.body["enrollmentId"]);
    const code2 = await latestCode(host, card.phone);
    const bad = code2 === "000001" ? "000002" : "000001";
    for (let i = 0; i < 3; i++) await host.acquirer("POST", `/issuers/sampo/enrollments/${id2}/verify`, { code: bad });
    const spent = await host.acquirer("POST", `/issuers/sampo/enrollments/${id2}/verify`, { code: code2 });
    expect(spent.body).toMatchObject({ error: { code: "enrollment_expired" } });
  });

  it("enrolls the same card from another device (recovery): same cardRef, a second binding", async () => {
    const card = testCard("sampo", "approves");
    host.clock.advance(24 * 3600);
    const phone = await TestDevice.create();
    const laptop = await TestDevice.create();
    const first = await enroll(host, "sampo", phone, card, { payerRef: "usr_recover" });
    const second = await enroll(host, "sampo", laptop, card, { payerRef: "usr_recover" });
    expect(second.cardRef).toBe(first.cardRef);
    expect(second.deviceKid).toBe(laptop.kid);
    const view = await host.operator<{ deviceBindings: Array<{ deviceKid: string }> }>(
      `/issuers/sampo/backoffice/cards/${first.cardRef}`,
    );
    expect(view.body.deviceBindings.map((b) => b.deviceKid)).toEqual(expect.arrayContaining([phone.kid, laptop.kid]));
  });

  it("refuses a request without the acquirer secret, or with a wrong one, and changes nothing", async () => {
    const card = testCard("sampo", "mastercard");
    const device = await TestDevice.create();
    const enrollment = await device.enrollment(host.certificate("sampo"), card, { iat: host.clock.seconds() });
    const before = await host.get<{ messages: unknown[] }>(`/test-inbox?phone=${encodeURIComponent(card.phone)}`);
    for (const secret of [null, "wrong-secret-of-the-same-kind-000000000000"]) {
      const answer = await host.acquirer(
        "POST",
        "/issuers/sampo/enrollments",
        { enrollment, payerRef: "usr_x" },
        secret,
      );
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: "acquirer_unauthorized" } });
    }
    const after = await host.get<{ messages: unknown[] }>(`/test-inbox?phone=${encodeURIComponent(card.phone)}`);
    expect(after.body.messages.length).toBe(before.body.messages.length);
  });

  it("answers bad input with request_invalid and no echo of it", async () => {
    const answers = [
      await host.acquirer("POST", "/issuers/sampo/enrollments", { enrollment: "4111000000000016", payerRef: "usr_x" }),
      await host.acquirer("POST", "/issuers/sampo/enrollments", {
        enrollment: "a.b.c.d.e",
        payerRef: "usr_x",
        pan4111000000000016: 1,
      }),
      await host.acquirer("POST", "/issuers/sampo/enrollments/ien_00000000000000000000000000/verify", {
        code: "12345x",
      }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: { code: "request_invalid" } });
      expect(answer.text).not.toContain("4111000000000016");
      expect(answer.text).not.toContain("12345x");
    }
    expect(
      (await host.acquirer("POST", "/issuers/nosuch/enrollments", { enrollment: "a.b.c.d.e", payerRef: "x" })).body,
    ).toMatchObject({ error: { code: "issuer_unknown" } });
  });
});
