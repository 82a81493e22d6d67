/**
 * The hosted checkout (issue 9): the payment as the checkout page shows it in each state, with the redirect back to
 * the merchant, and the push of a payment request to the payer's phone — an announcement written only for a number
 * that has an MPay account, the same answer either way, and limits claimed before the message: of N concurrent
 * pushes against a limit L exactly L pass (on PGlite and, with DATABASE_URL, on PostgreSQL).
 */
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAIRING_CODE_PATTERN } from "@mpay/protocol";
import { queryRows, TestClock } from "@mpay/service-kit";
import { testBackends } from "../testing/databases.ts";
import {
  authorizeThroughService,
  call,
  openTestPay,
  paymentBody,
  TEST_ORIGIN,
  type TestPay,
} from "../testing/system.ts";
import { pairingCode } from "./pairing-code.ts";
import { DEFAULT_PUSH_LIMITS } from "./push-limits.ts";

type ErrorAnswer = { error: { code: string; param?: string } };
type Checkout = {
  object: string;
  paymentId: string;
  status: string;
  merchant: { name: string };
  itemName: string;
  amount: number;
  currency: string;
  expiresAt: string;
  pairingCode: string;
  mode: string;
  redirectUrl: string | null;
};
type Push = { object: string; pairingCode: string; phoneNumber: string };

/** A made-up Korean mobile number, different each call. */
const phone = () => `+8210${String(randomBytes(4).readUInt32BE() % 100_000_000).padStart(8, "0")}`;

describe.each(testBackends())("hosted checkout [%s]", (backend) => {
  let t: TestPay;
  const clock = new TestClock();
  let addresses = 0;
  const address = () => `10.9.${Math.floor(++addresses / 250)}.${addresses % 250}`;

  beforeAll(async () => {
    t = await openTestPay(backend, { clock, dbPoolSize: 8 });
  });
  afterAll(() => t?.close());

  async function newPayment(overrides: Record<string, unknown> = {}): Promise<string> {
    const created = await call<{ id: string }>(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody(overrides),
    );
    expect(created.status).toBe(200);
    return created.body.id;
  }

  const view = (id: string) => call<Checkout & ErrorAnswer>(t.app, "GET", `/v1/checkout/${id}`, null);

  async function push(id: string, phoneNumber: string, from = address()) {
    const response = await t.app.inject({
      method: "POST",
      url: `/v1/checkout/${id}/push`,
      remoteAddress: from,
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ phoneNumber }),
    });
    return {
      status: response.statusCode,
      body: JSON.parse(response.body) as Push & ErrorAnswer,
      retryAfter: response.headers["retry-after"],
      raw: response.body,
    };
  }

  /** A payer whose messenger account has `phoneNumber` (the sign-in itself is tested in e2e/payer-signin.test.ts). */
  async function payerWithPhone(phoneNumber: string): Promise<string> {
    const subject = `acct_${randomBytes(20)
      .toString("hex")
      .toUpperCase()
      .replace(/[ILOU]/g, "A")
      .slice(0, 26)}`;
    const session = await t.system.payers.openSession({ subject, displayName: "Choi Yuna", phoneNumber });
    return session.payer.id;
  }

  const announcementsOf = (payerId: string) =>
    queryRows<{ kind: string; text: string; actions: Array<{ label: string; action: string }> }>(
      t.system.database.db,
      sql`select kind, text, actions from announcements where payer_id = ${payerId} order by created_at`,
    );

  it("shows a payment awaiting approval: the merchant's registered name, the terms, the pairing code, no redirect", async () => {
    const id = await newPayment({ amount: 35000, itemName: "Linen shirt" });
    const answer = await view(id);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      object: "checkout",
      paymentId: id,
      status: "requires_approval",
      merchant: { name: "Test Shop" },
      itemName: "Linen shirt",
      amount: 35000,
      currency: "KRW",
      expiresAt: expect.any(String),
      pairingCode: pairingCode(id),
      mode: "test",
      redirectUrl: null,
    });
    expect(answer.body.pairingCode).toMatch(PAIRING_CODE_PATTERN);
    expect(Date.parse(answer.body.expiresAt)).toBeGreaterThan(clock.now().getTime());
    // The merchant's URLs are not shown before the payment is decided, nor anything of the merchant's keys.
    expect(answer.raw).not.toContain(TEST_ORIGIN);
    expect(answer.raw).not.toContain("sk_test_");
  });

  it("sends the payer back to returnUrl once authorized or captured, with the payment and its status", async () => {
    const id = await newPayment({ returnUrl: `${TEST_ORIGIN}/done?order=17` });
    await authorizeThroughService(t.system, id);
    const authorized = await view(id);
    expect(authorized.body.status).toBe("authorized");
    const url = new URL(authorized.body.redirectUrl!);
    expect(`${url.origin}${url.pathname}`).toBe(`${TEST_ORIGIN}/done`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ order: "17", paymentId: id, status: "authorized" });
    await call(t.app, "POST", `/v1/payments/${id}/capture`, t.merchant.secretKey, {});
    expect(new URL((await view(id)).body.redirectUrl!).searchParams.get("status")).toBe("captured");
  });

  it("sends the payer to cancelUrl once declined, canceled or expired", async () => {
    const canceled = await newPayment();
    expect((await call(t.app, "POST", `/v1/payments/${canceled}/cancel`, t.merchant.secretKey, {})).status).toBe(200);
    const declined = await newPayment();
    await t.system.database.db.transaction((tx) =>
      t.system.payments.recordIssuerDecision(tx, declined, {
        approved: false,
        issuerId: "test-issuer",
        declineCode: "insufficient_funds",
      }),
    );
    for (const [id, status] of [
      [canceled, "canceled"],
      [declined, "declined"],
    ] as const) {
      const answer = await view(id);
      expect(answer.body.status).toBe(status);
      expect(answer.body.redirectUrl).toBe(`${TEST_ORIGIN}/cart?paymentId=${id}&status=${status}`);
    }
  });

  it("expires a payment whose approval window passed when the page asks, before the expiry worker's round", async () => {
    const id = await newPayment();
    clock.advance(t.config.approvalTtlSeconds + 1);
    const answer = await view(id);
    expect([answer.body.status, answer.body.redirectUrl]).toEqual([
      "expired",
      `${TEST_ORIGIN}/cart?paymentId=${id}&status=expired`,
    ]);
    // The merchant sees the same state (and was sent its event), not a page-only fiction.
    const merchantView = await call<{ status: string }>(t.app, "GET", `/v1/payments/${id}`, t.merchant.secretKey);
    expect(merchantView.body.status).toBe("expired");
    const pushed = await push(id, phone());
    expect([pushed.status, pushed.body.error.code]).toEqual([409, "payment_not_pending"]);
  });

  it("answers 404 payment_not_found for an unknown or malformed id", async () => {
    for (const id of ["pay_01JZZZZZZZZZZZZZZZZZZZZZZZ", "nonsense", "pay_1'--"]) {
      const answer = await view(encodeURIComponent(id));
      expect([answer.status, answer.body.error.code], id).toEqual([404, "payment_not_found"]);
      const pushed = await push(encodeURIComponent(id), phone());
      expect([pushed.status, pushed.body.error.code], id).toEqual([404, "payment_not_found"]);
    }
  });

  it("pushes a payment request to the payer whose messenger account has the number, in Korean and English", async () => {
    const number = phone();
    const payerId = await payerWithPhone(number);
    const id = await newPayment({ amount: 35000, itemName: "Linen shirt" });
    // Typed as people type it: with spaces and hyphens.
    const typed = `${number.slice(0, 3)} ${number.slice(3, 5)}-${number.slice(5, 9)}-${number.slice(9)}`;
    const answer = await push(id, typed);
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({
      object: "checkout_push",
      pairingCode: pairingCode(id),
      phoneNumber: `+82 10-****-${number.slice(-4)}`,
    });
    const [message, ...more] = await announcementsOf(payerId);
    expect(more).toEqual([]);
    expect(message?.kind).toBe("payment_request");
    expect(message?.actions).toEqual([{ label: "Pay", action: `mpay:pay/${id}` }]);
    expect(message?.text).toContain(`Test Shop asks 35,000원 (₩35,000) for "Linen shirt". Code ${pairingCode(id)}.`);
    expect(message?.text).toContain(`확인 코드 ${pairingCode(id)}`);
    // The number is in no log line and in no limit row in clear.
    expect(t.logLines.join("\n")).not.toContain(number.slice(3));
    const slots = JSON.stringify(await queryRows(t.system.database.db, sql`select * from checkout_push_limit_slots`));
    expect(slots).not.toContain(number.slice(3));
  });

  it("answers an unknown number exactly as a known one, and sends nothing", async () => {
    const known = phone();
    await payerWithPhone(known);
    const unknown = phone();
    const id = await newPayment();
    const before = await queryRows<{ n: number }>(
      t.system.database.db,
      sql`select count(*)::int as n from announcements`,
    );
    const toKnown = await push(id, known);
    const toUnknown = await push(id, unknown);
    expect([toKnown.status, toUnknown.status]).toEqual([202, 202]);
    const shape = (raw: string) => raw.replaceAll(/\d{4}"/g, 'NNNN"');
    expect(shape(toUnknown.raw)).toBe(shape(toKnown.raw));
    expect(Object.keys(toUnknown.body)).toEqual(Object.keys(toKnown.body));
    const after = await queryRows<{ n: number }>(
      t.system.database.db,
      sql`select count(*)::int as n from announcements`,
    );
    expect(Number(after[0]?.n) - Number(before[0]?.n)).toBe(1);
  });

  it("refuses a number that is not in international format, and changes nothing", async () => {
    const id = await newPayment();
    for (const bad of ["010-1234-5678", "+0 10 1234 5678", "+82 10 1234 5678 ext 9", "", "+8210<script>"]) {
      const answer = await push(id, bad);
      expect([answer.status, answer.body.error.code, answer.body.error.param], bad).toEqual([
        400,
        "phone_number_invalid",
        "phoneNumber",
      ]);
    }
    const slots = await queryRows<{ n: number }>(
      t.system.database.db,
      sql`select count(*)::int as n from checkout_push_limit_slots where subject = ${`payment:${id}`}`,
    );
    expect(Number(slots[0]?.n)).toBe(0);
    expect((await push(id, "x".repeat(65))).status).toBe(400);
  });

  it(`lets exactly ${DEFAULT_PUSH_LIMITS.perPhonePer10Minutes} of 12 concurrent pushes to one number through`, async () => {
    const number = phone();
    const payerId = await payerWithPhone(number);
    const payments = await Promise.all(Array.from({ length: 4 }, () => newPayment()));
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => push(payments[i % 4]!, number)));
    const passed = answers.filter((a) => a.status === 202);
    expect(passed).toHaveLength(DEFAULT_PUSH_LIMITS.perPhonePer10Minutes);
    for (const refused of answers.filter((a) => a.status !== 202)) {
      expect([refused.status, refused.body.error.code]).toEqual([429, "push_rate_limited"]);
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    }
    // Claimed before the message: as many messages as pushes that passed.
    expect(await announcementsOf(payerId)).toHaveLength(DEFAULT_PUSH_LIMITS.perPhonePer10Minutes);
    // The window is the server's clock: ten minutes later the number may be asked again.
    clock.advance(601);
    expect((await push(await newPayment(), number)).status).toBe(202);
  });

  it(`lets exactly ${DEFAULT_PUSH_LIMITS.perAddressPer10Minutes} of 20 concurrent pushes from one address through`, async () => {
    const payments = await Promise.all(Array.from({ length: 5 }, () => newPayment()));
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => push(payments[i % 5]!, phone(), "10.8.0.1")),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(DEFAULT_PUSH_LIMITS.perAddressPer10Minutes);
    expect(new Set(answers.filter((a) => a.status !== 202).map((a) => a.body.error.code))).toEqual(
      new Set(["push_rate_limited"]),
    );
  });

  it(`lets exactly ${DEFAULT_PUSH_LIMITS.perPayment} of 15 concurrent pushes for one payment through`, async () => {
    const id = await newPayment();
    const answers = await Promise.all(Array.from({ length: 15 }, () => push(id, phone())));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(DEFAULT_PUSH_LIMITS.perPayment);
    const refused = answers.find((a) => a.status === 429);
    expect(refused?.body.error.code).toBe("push_rate_limited");
    expect(refused?.retryAfter).toBeDefined();
  });

  it("answers the checkout's routes to the web app's origin (CORS), with the documented shapes in /openapi.json", async () => {
    const id = await newPayment();
    const answer = await t.app.inject({
      method: "GET",
      url: `/v1/checkout/${id}`,
      headers: { origin: new URL(t.config.checkoutBaseUrl).origin },
    });
    expect(answer.headers["access-control-allow-origin"]).toBe(new URL(t.config.checkoutBaseUrl).origin);
    const doc = (
      await call<{ paths: Record<string, Record<string, { tags?: string[]; security?: unknown[] }>> }>(
        t.app,
        "GET",
        "/openapi.json",
        null,
      )
    ).body;
    expect(doc.paths["/v1/checkout/{paymentId}"]?.["get"]?.tags).toEqual(["checkout"]);
    expect(doc.paths["/v1/checkout/{paymentId}/push"]?.["post"]).toMatchObject({ tags: ["checkout"], security: [] });
  });
});
