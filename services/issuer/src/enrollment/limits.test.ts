/**
 * The enrollment limits under concurrent requests (issue 7, hole 3), over real HTTP on PGlite and on PostgreSQL
 * (a pool of 10 connections, so the requests race in the database): of N guesses at once against a limit L,
 * exactly L are checked and the rest get `enrollment_locked`, with nothing else written — no failure counted past
 * the limit, no code sent, no enrollment. The counts are read from the issuer's own table.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@mpay/service-kit";
import { DEFAULT_ENROLLMENT_LIMITS as LIMITS } from "../config.ts";
import { testCard } from "../cards/test-cards.ts";
import { TestDevice } from "../testing/device.ts";
import { latestCode, startEnrollment, type InboxAnswer } from "../testing/flows.ts";
import { openTestHost, testBackends, type Answer, type TestHost } from "../testing/host.ts";
import { cardKeyOf } from "./limits.ts";

const BURST = 40;

/** A Luhn-valid number in Sampo's BIN range that no account has. */
function madeUpPan(n: number): string {
  const body = `411100${String(700_000_000 + n).padStart(9, "0")}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let digit = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return `${body}${(10 - (sum % 10)) % 10}`;
}

/** `count` CVCs that are not `right`. */
const wrongCvcs = (right: string, count: number) =>
  Array.from({ length: count }, (_, i) => String((Number(right) + 1 + i) % 1000).padStart(3, "0"));

const codeOf = (answer: Answer) => (answer.body as { error?: { code?: string } }).error?.code ?? String(answer.status);

function tally(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) counts[codeOf(answer)] = (counts[codeOf(answer)] ?? 0) + 1;
  return counts;
}

describe.each(testBackends())("enrollment limits under concurrent requests [%s]", (backend) => {
  let host: TestHost;
  let made = 0;
  const issuer = () => host.server.host.get("sampo");
  const slots = async (subject: string, kind = "failure") =>
    Number(
      (
        await queryRows<{ n: number }>(
          issuer().db,
          sql`select count(*)::int as n from enrollment_events where subject = ${subject} and kind = ${kind}`,
        )
      )[0]?.n,
    );
  const cardSubject = (pan: string) => `card:${cardKeyOf(issuer().keys.cardVerificationKey, pan)}`;
  const inbox = async (phone: string) =>
    (await host.get<InboxAnswer>(`/test-inbox?phone=${encodeURIComponent(phone)}`)).body.messages.length;
  const enrollmentsOf = async (pan: string) =>
    Number(
      (
        await queryRows<{ n: number }>(
          issuer().db,
          sql`select count(*)::int as n from enrollments e join card_accounts c on c.card_ref = e.card_ref where c.pan = ${pan}`,
        )
      )[0]?.n,
    );

  beforeAll(async () => {
    host = await openTestHost(backend, { overrides: { dbPoolSize: 10 } });
  });
  afterAll(async () => {
    await host?.close();
  });

  it(`checks exactly ${LIMITS.cardFailures} of ${BURST} concurrent CVC guesses on one card, and then not even the right CVC`, async () => {
    const card = testCard("sampo", "approves");
    const devices = await Promise.all(Array.from({ length: BURST }, () => TestDevice.create()));
    const guesses = wrongCvcs(card.cvc, BURST);
    const answers = await Promise.all(
      devices.map((device, i) =>
        startEnrollment(host, "sampo", device, { ...card, cvc: guesses[i]! }, { payerRef: `usr_cvc_${i}` }),
      ),
    );

    expect(tally(answers)).toEqual({
      enrollment_refused: LIMITS.cardFailures,
      enrollment_locked: BURST - LIMITS.cardFailures,
    });
    expect(await slots(cardSubject(card.pan))).toBe(LIMITS.cardFailures);
    // A locked answer changed nothing: the devices and payers turned away have no failure counted.
    let deviceFailures = 0;
    for (const device of devices) deviceFailures += await slots(`device:${device.kid}`);
    expect(deviceFailures).toBe(LIMITS.cardFailures);

    // The right CVC, after the limit: the same lock, no code to the phone, no enrollment.
    const before = await inbox(card.phone);
    const right = await startEnrollment(host, "sampo", await TestDevice.create(), card, { payerRef: "usr_cvc_right" });
    expect(right.status).toBe(429);
    expect(codeOf(right)).toBe("enrollment_locked");
    expect(await inbox(card.phone)).toBe(before);
    expect(await enrollmentsOf(card.pan)).toBe(0);
    expect(await slots(cardSubject(card.pan))).toBe(LIMITS.cardFailures);

    // The window reads the issuer's clock: a day later the card enrolls again.
    host.clock.advance(LIMITS.cardWindowSeconds);
    const nextDay = await startEnrollment(host, "sampo", await TestDevice.create(), card, {
      payerRef: "usr_cvc_right",
    });
    expect(nextDay.status).toBe(201);
    expect(await inbox(card.phone)).toBe(before + 1);
  });

  it(`checks exactly ${LIMITS.deviceFailures} of ${BURST} concurrent guesses with one device key`, async () => {
    const device = await TestDevice.create();
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        startEnrollment(
          host,
          "sampo",
          device,
          { pan: madeUpPan(++made), expiry: "12/31", cvc: "123" },
          { payerRef: `usr_device_${i}` },
        ),
      ),
    );
    expect(tally(answers)).toEqual({
      enrollment_refused: LIMITS.deviceFailures,
      enrollment_locked: BURST - LIMITS.deviceFailures,
    });
    expect(await slots(`device:${device.kid}`)).toBe(LIMITS.deviceFailures);
    let payerFailures = 0;
    for (let i = 0; i < BURST; i++) payerFailures += await slots(`payer:usr_device_${i}`);
    expect(payerFailures).toBe(LIMITS.deviceFailures);
  });

  it(`checks exactly ${LIMITS.payerFailures} of ${BURST} concurrent guesses by one payer, bad envelopes included`, async () => {
    const answers = await Promise.all(
      Array.from({ length: BURST }, async (_, i) =>
        i % 4 === 0
          ? host.acquirer("POST", "/issuers/sampo/enrollments", {
              enrollment: "a.b.c.d.e",
              payerRef: "usr_payer_burst",
            })
          : startEnrollment(
              host,
              "sampo",
              await TestDevice.create(),
              { pan: madeUpPan(++made), expiry: "12/31", cvc: "123" },
              { payerRef: "usr_payer_burst" },
            ),
      ),
    );
    expect(tally(answers)).toEqual({
      enrollment_refused: LIMITS.payerFailures,
      enrollment_locked: BURST - LIMITS.payerFailures,
    });
    expect(await slots("payer:usr_payer_burst")).toBe(LIMITS.payerFailures);
  });

  it(`sends exactly ${LIMITS.codesPerCard} codes for ${BURST} concurrent starts with the right card data, and counts none as a failure`, async () => {
    const card = testCard("sampo", "mastercard");
    const before = await inbox(card.phone);
    const answers = await Promise.all(
      Array.from({ length: BURST }, async (_, i) =>
        startEnrollment(host, "sampo", await TestDevice.create(), card, { payerRef: `usr_codes_${i}` }),
      ),
    );
    expect(tally(answers)).toEqual({ "201": LIMITS.codesPerCard, enrollment_locked: BURST - LIMITS.codesPerCard });
    expect(await inbox(card.phone)).toBe(before + LIMITS.codesPerCard);
    expect(await enrollmentsOf(card.pan)).toBe(LIMITS.codesPerCard);
    expect(await slots(cardSubject(card.pan), "code_sent")).toBe(LIMITS.codesPerCard);
    expect(await slots(cardSubject(card.pan))).toBe(0);
  });

  it(`counts exactly ${LIMITS.codeTries} of ${BURST} concurrent wrong codes for one enrollment`, async () => {
    const card = testCard("sampo", "local");
    const started = await startEnrollment(host, "sampo", await TestDevice.create(), card, {
      payerRef: "usr_code_tries",
    });
    expect(started.status).toBe(201);
    const real = await latestCode(host, card.phone);
    const wrong = (i: number) => String((Number(real) + 1 + i) % 1_000_000).padStart(6, "0");
    const path = `/issuers/sampo/enrollments/${String(started.body["enrollmentId"])}/verify`;
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) => host.acquirer("POST", path, { code: wrong(i) })),
    );
    expect(tally(answers)).toEqual({
      verification_code_invalid: LIMITS.codeTries,
      enrollment_expired: BURST - LIMITS.codeTries,
    });
    expect(await slots(cardSubject(card.pan))).toBe(LIMITS.codeTries);
    // Spent: the real code no longer binds anything.
    expect(codeOf(await host.acquirer("POST", path, { code: real }))).toBe("enrollment_expired");
  });

  it(`counts at most ${LIMITS.cardFailures} wrong codes across every enrollment of one card at once`, async () => {
    const card = testCard("sampo", "lowLimit");
    const paths: string[] = [];
    for (let i = 0; i < LIMITS.codesPerCard; i++) {
      const started = await startEnrollment(host, "sampo", await TestDevice.create(), card, {
        payerRef: `usr_codes_across_${i}`,
      });
      expect(started.status).toBe(201);
      paths.push(`/issuers/sampo/enrollments/${String(started.body["enrollmentId"])}/verify`);
    }
    // Each enrollment allows 3 wrong codes (15 in all), the card 5 failures: the card's limit must hold.
    const answers = await Promise.all(
      Array.from({ length: paths.length * LIMITS.codeTries }, (_, i) =>
        host.acquirer("POST", paths[i % paths.length]!, { code: String(100_000 + i) }),
      ),
    );
    expect(answers.filter((a) => codeOf(a) === "verification_code_invalid")).toHaveLength(LIMITS.cardFailures);
    expect(answers.filter((a) => codeOf(a) === "enrollment_locked")).toHaveLength(answers.length - LIMITS.cardFailures);
    expect(await slots(cardSubject(card.pan))).toBe(LIMITS.cardFailures);
  });
});
