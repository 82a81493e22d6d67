import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { call, openTestPay, paymentBody, type TestPay } from "../testing/system.ts";

type ErrorAnswer = { error: { type: string; code: string; message: string; param?: string } };

/** A sound card-on-file request (1,000 a charge, one charge and 1,000 a month, for 30 days); override the part under test. */
const mandateAsked = (overrides: Record<string, unknown> = {}) => ({
  maxAmount: 1000,
  period: { interval: "month", maxCharges: 1, maxTotal: 1000 },
  expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
  ...overrides,
});

/** Each bad request gets a 4xx with a stable code, never a 500, and writes nothing. */
describe.each(testBackends())("bad input [%s]", (backend) => {
  let t: TestPay;
  const count = async () => {
    const [row] = await queryRows<{ payments: number; keys: number; events: number }>(
      t.system.database.db,
      sql`select (select count(*) from payments)::int as payments, (select count(*) from idempotency_keys)::int as keys, (select count(*) from events)::int as events`,
    );
    return row;
  };

  beforeAll(async () => {
    t = await openTestPay(backend);
  });
  afterAll(() => t.close());

  const cases: Array<[string, unknown, number, string, string?]> = [
    ["amount as a string", paymentBody({ amount: "35000" }), 400, "amount_invalid", "amount"],
    ["zero amount", paymentBody({ amount: 0 }), 400, "amount_invalid", "amount"],
    ["negative amount", paymentBody({ amount: -5 }), 400, "amount_invalid", "amount"],
    ["fractional amount", paymentBody({ amount: 350.5 }), 400, "amount_invalid", "amount"],
    ["absurd amount", paymentBody({ amount: 1e15 }), 400, "amount_too_large", "amount"],
    [
      "amount beyond a currency's ceiling",
      paymentBody({ amount: 10_000_000_000, currency: "USD" }),
      400,
      "amount_too_large",
      "amount",
    ],
    ["unsafe integer amount", paymentBody({ amount: 2 ** 60 }), 400, "amount_invalid", "amount"],
    ["unknown currency", paymentBody({ currency: "XYZ" }), 400, "currency_unsupported", "currency"],
    ["lower-case currency", paymentBody({ currency: "krw" }), 400, "currency_unsupported", "currency"],
    ["missing amount", paymentBody({ amount: undefined }), 400, "parameter_missing", "amount"],
    ["unknown field", paymentBody({ amout: 5 }), 400, "parameter_unknown", "amout"],
    [
      "markup in itemName",
      paymentBody({ itemName: '<img src=x onerror="alert(1)">' }),
      400,
      "text_contains_markup",
      "itemName",
    ],
    ["control characters in orderId", paymentBody({ orderId: "a\u0000b" }), 400, "parameter_invalid", "orderId"],
    [
      "returnUrl off the registered origins",
      paymentBody({ returnUrl: "https://evil.example/phish" }),
      400,
      "url_not_registered",
      "returnUrl",
    ],
    [
      "cancelUrl with a look-alike origin",
      paymentBody({ cancelUrl: "https://shop.example.evil.example/" }),
      400,
      "url_not_registered",
      "cancelUrl",
    ],
    ["javascript: returnUrl", paymentBody({ returnUrl: "javascript:alert(1)" }), 400, "parameter_invalid", "returnUrl"],
    [
      "captureMethod outside the enum",
      paymentBody({ captureMethod: "later" }),
      400,
      "parameter_invalid",
      "captureMethod",
    ],
    [
      "no returnUrl for a payer-present payment",
      paymentBody({ returnUrl: undefined }),
      400,
      "parameter_missing",
      "returnUrl",
    ],
    [
      "a mandate asked for with a past expiry",
      paymentBody({ setupFutureUsage: mandateAsked({ expiresAt: "2020-01-01T00:00:00Z" }) }),
      400,
      "parameter_invalid",
      "setupFutureUsage.expiresAt",
    ],
    [
      "a mandate asked for with no date",
      paymentBody({ setupFutureUsage: mandateAsked({ expiresAt: "soon" }) }),
      400,
      "parameter_invalid",
      "setupFutureUsage.expiresAt",
    ],
    [
      "a mandate ending beyond five years",
      paymentBody({
        setupFutureUsage: mandateAsked({ expiresAt: new Date(Date.now() + 5 * 366 * 86_400_000).toISOString() }),
      }),
      400,
      "parameter_invalid",
      "setupFutureUsage.expiresAt",
    ],
    [
      "a mandate asked for with no period",
      paymentBody({ setupFutureUsage: mandateAsked({ period: undefined }) }),
      400,
      "parameter_missing",
      "setupFutureUsage.period",
    ],
    [
      "a mandate per year",
      paymentBody({ setupFutureUsage: mandateAsked({ period: { interval: "year", maxCharges: 1, maxTotal: 1000 } }) }),
      400,
      "parameter_invalid",
      "setupFutureUsage.period.interval",
    ],
    [
      "a mandate with no charge per period",
      paymentBody({ setupFutureUsage: mandateAsked({ period: { interval: "month", maxCharges: 0, maxTotal: 1000 } }) }),
      400,
      "parameter_invalid",
      "setupFutureUsage.period.maxCharges",
    ],
    [
      "a mandate with too many charges per period",
      paymentBody({ setupFutureUsage: mandateAsked({ period: { interval: "day", maxCharges: 101, maxTotal: 1000 } }) }),
      400,
      "parameter_invalid",
      "setupFutureUsage.period.maxCharges",
    ],
    [
      "a mandate with a fractional count",
      paymentBody({
        setupFutureUsage: mandateAsked({ period: { interval: "month", maxCharges: 1.5, maxTotal: 1000 } }),
      }),
      400,
      "parameter_invalid",
      "setupFutureUsage.period.maxCharges",
    ],
    [
      "a mandate total as a string",
      paymentBody({
        setupFutureUsage: mandateAsked({ period: { interval: "month", maxCharges: 1, maxTotal: "1000" } }),
      }),
      400,
      "parameter_invalid",
      "setupFutureUsage.period.maxTotal",
    ],
    [
      "a mandate total below one charge at the cap",
      paymentBody({ setupFutureUsage: mandateAsked({ period: { interval: "month", maxCharges: 2, maxTotal: 999 } }) }),
      400,
      "parameter_invalid",
      "setupFutureUsage.period.maxTotal",
    ],
    [
      "a mandate total above every charge at the cap",
      paymentBody({ setupFutureUsage: mandateAsked({ period: { interval: "month", maxCharges: 2, maxTotal: 2001 } }) }),
      400,
      "parameter_invalid",
      "setupFutureUsage.period.maxTotal",
    ],
    [
      "a mandate total beyond the currency's ceiling",
      paymentBody({
        currency: "USD",
        setupFutureUsage: mandateAsked({
          maxAmount: 1000,
          period: { interval: "month", maxCharges: 100, maxTotal: 10_000_000_000 },
        }),
      }),
      400,
      "amount_too_large",
      "setupFutureUsage.period.maxTotal",
    ],
    [
      "an unknown field in a mandate's period",
      paymentBody({
        setupFutureUsage: mandateAsked({
          period: { interval: "month", maxCharges: 1, maxTotal: 1000, rollover: true },
        }),
      }),
      400,
      "parameter_unknown",
      "setupFutureUsage.period.rollover",
    ],
    [
      "a mandate that is not an MPay mandate id",
      paymentBody({ mandate: "tok_123" }),
      400,
      "parameter_invalid",
      "mandate",
    ],
    [
      "another merchant's or an unknown mandate",
      paymentBody({ mandate: "rmd_01KB0000000000000000000000" }),
      404,
      "resource_missing",
      "mandate",
    ],
    ["an array instead of an object", [paymentBody()], 400, "parameter_invalid"],
    ["broken JSON", '{"amount": 35000,', 400, "body_invalid_json"],
    ["prototype pollution", '{"__proto__": {"admin": true}, "amount": 1}', 400, "body_invalid_json"],
    ["oversized body", paymentBody({ itemName: "x".repeat(20_000) }), 413, "body_too_large"],
  ];

  it.each(cases.map(([name, body, status, code, param]) => ({ name, body, status, code, param })))(
    "$name → $status $code",
    async ({ body, status, code, param }) => {
      const before = await count();
      const res = await call<ErrorAnswer>(t.app, "POST", "/v1/payments", t.merchant.secretKey, body, {
        "idempotency-key": `bad-${code}-${Math.random()}`,
      });
      expect(res.status).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message.length).toBeGreaterThan(10);
      if (param) expect(res.body.error.param).toBe(param);
      expect(res.raw).not.toMatch(/at \w+ \(|node_modules|stack/i);
      expect(await count()).toEqual(before);
    },
  );

  it("refuses requests without a key, with a bad key, or with a publishable key", async () => {
    const none = await call<ErrorAnswer>(t.app, "GET", "/v1/payments", null);
    expect([none.status, none.body.error.code]).toEqual([401, "api_key_missing"]);
    const bad = await call<ErrorAnswer>(t.app, "GET", "/v1/payments", "sk_test_" + "A".repeat(32));
    expect([bad.status, bad.body.error.code]).toEqual([401, "api_key_invalid"]);
    const publishable = await call<ErrorAnswer>(t.app, "GET", "/v1/payments", t.merchant.publishableKey);
    expect([publishable.status, publishable.body.error.code]).toEqual([403, "secret_key_required"]);
  });

  it("answers malformed ids, unknown routes and bad list queries with 4xx", async () => {
    const key = t.merchant.secretKey;
    expect((await call<ErrorAnswer>(t.app, "GET", "/v1/payments/not-an-id", key)).body.error.code).toBe(
      "parameter_invalid",
    );
    expect(
      (await call<ErrorAnswer>(t.app, "GET", "/v1/payments/pay_00000000000000000000000000", key)).body.error.code,
    ).toBe("resource_missing");
    expect((await call<ErrorAnswer>(t.app, "GET", "/v1/nothing", key)).status).toBe(404);
    expect((await call<ErrorAnswer>(t.app, "GET", "/v1/payments?limit=1000", key)).body.error.code).toBe(
      "parameter_invalid",
    );
    expect((await call<ErrorAnswer>(t.app, "GET", "/v1/payments?status=paid", key)).body.error.code).toBe(
      "parameter_invalid",
    );
    expect((await call<ErrorAnswer>(t.app, "GET", "/v1/payments?foo=1", key)).body.error.code).toBe(
      "parameter_unknown",
    );
  });

  it("refuses an Idempotency-Key that is empty-looking or too long", async () => {
    const res = await call<ErrorAnswer>(t.app, "POST", "/v1/payments", t.merchant.secretKey, paymentBody(), {
      "idempotency-key": "k".repeat(300),
    });
    expect([res.status, res.body.error.code]).toEqual([400, "idempotency_key_invalid"]);
  });
});
