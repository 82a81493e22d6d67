/**
 * The SDK against a real pay server (in this process, PGlite, over a loopback socket): what the merchant API does is
 * the server's behaviour, so it is tested there — create, capture, refund, lists walked page by page, typed errors
 * with the server's code, param and request id, idempotency keys the server honours.
 */
import { merchantTestPay, TEST_ORIGIN, type MerchantTestPay } from "@mpay/testing/merchant-pay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MPay } from "./client.ts";
import { AuthenticationError, ConflictError, InvalidRequestError, NotFoundError } from "./errors.ts";
import type { Payment, PaymentCreateParams } from "./types.ts";

let t: MerchantTestPay;
let mpay: MPay;

const order = (n: number | string, extra: Partial<PaymentCreateParams> = {}): PaymentCreateParams => ({
  amount: 35000,
  currency: "KRW",
  orderId: `order-${n}`,
  itemName: "Linen shirt",
  returnUrl: `${TEST_ORIGIN}/done`,
  cancelUrl: `${TEST_ORIGIN}/cart`,
  ...extra,
});

beforeAll(async () => {
  t = await merchantTestPay();
  mpay = new MPay({ secretKey: t.merchant.secretKey, baseUrl: t.baseUrl, retryDelay: { initialMs: 10, maxMs: 50 } });
});
afterAll(() => t.close());

describe("payments and refunds through the SDK", () => {
  it("creates, authorizes, captures part, refunds part, and reads it all back", async () => {
    const created = await mpay.payments.create(order(1, { captureMethod: "manual" }));
    expect(created).toMatchObject({ object: "payment", status: "requires_approval", amount: 35000 });
    expect(created.checkoutUrl).toContain(created.id);
    await t.authorize(created.id);
    expect((await mpay.payments.retrieve(created.id)).status).toBe("authorized");

    const captured = await mpay.payments.capture(created.id, { amount: 30000 });
    expect(captured).toMatchObject({ status: "captured", amountCaptured: 30000 });
    const refund = await mpay.refunds.create(created.id, { amount: 10000, reason: "one sleeve too short" });
    expect(refund).toMatchObject({ object: "refund", amount: 10000, paymentId: created.id });
    expect(await mpay.refunds.retrieve(refund.id)).toEqual(refund);
    const refunds = await mpay.refunds.list(created.id);
    expect(refunds.data.map((r) => r.id)).toEqual([refund.id]);
    expect(refunds.hasMore).toBe(false);

    const types: string[] = [];
    for await (const event of mpay.events.list({ limit: 2 })) types.push(event.type);
    expect(types).toEqual(expect.arrayContaining(["payment.authorized", "payment.captured", "refund.succeeded"]));
    const [latest] = (await mpay.events.list({ type: "refund.succeeded" })).data;
    const event = await mpay.events.retrieve(latest?.id ?? "");
    expect(event.type).toBe("refund.succeeded");
    if (event.type === "refund.succeeded") expect(event.data.refund.id).toBe(refund.id);

    const balances = await mpay.balances.retrieve();
    expect(balances.data.length).toBeGreaterThan(0);
  });

  it("cancels a payment before approval", async () => {
    const created = await mpay.payments.create(order(2));
    expect((await mpay.payments.cancel(created.id)).status).toBe("canceled");
  });

  it("sends the caller's Idempotency-Key: the same order twice is one payment", async () => {
    const first = await mpay.payments.create(order(3), { idempotencyKey: "order-3" });
    const again = await mpay.payments.create(order(3), { idempotencyKey: "order-3" });
    expect(again).toEqual(first);
    const other = await mpay.payments.create(order(3));
    expect(other.id).not.toBe(first.id);
    // The same key for another request is the server's 409, not retried.
    const reused = await mpay.payments.create(order(4), { idempotencyKey: "order-3" }).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(ConflictError);
    expect(reused).toMatchObject({ code: "idempotency_key_reused", statusCode: 409 });
  });
});

describe("pagination", () => {
  it("walks every page with startingAfter, newest first, each payment once", async () => {
    const shop = await t.createMerchant("Paged Shop");
    const requests: string[] = [];
    const counting: typeof fetch = (input, init) => {
      requests.push(String(input));
      return fetch(input, init);
    };
    const paged = new MPay({ secretKey: shop.secretKey, baseUrl: t.baseUrl, fetch: counting });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await paged.payments.create(order(`p${i}`))).id);
    requests.length = 0;

    const first = await paged.payments.list({ limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.hasMore).toBe(true);

    const walked: Payment[] = [];
    for await (const payment of paged.payments.list({ limit: 2 })) walked.push(payment);
    expect(walked.map((p) => p.id)).toEqual([...ids].reverse());
    // 1 request for the awaited page, then 4 pages of 2, 2, 2, 1.
    expect(requests).toHaveLength(5);
    expect(requests.filter((url) => url.includes("startingAfter="))).toHaveLength(3);

    expect((await paged.payments.list({ limit: 2 }).toArray({ limit: 3 })).map((p) => p.id)).toEqual(
      [...ids].reverse().slice(0, 3),
    );
    const filtered = await paged.payments.list({ orderId: "order-p3" });
    expect(filtered.data.map((p) => p.id)).toEqual([ids[3]]);
  });
});

describe("typed errors carry the server's code, param and request id", () => {
  it("a bad parameter is an InvalidRequestError naming it", async () => {
    const failure = await mpay.payments.create(order(5, { amount: 12.5 })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(InvalidRequestError);
    expect(failure).toMatchObject({
      type: "invalid_request_error",
      code: "amount_invalid",
      param: "amount",
      statusCode: 400,
    });
    expect((failure as InvalidRequestError).requestId).toMatch(/^req_/);

    const unknown = await mpay.payments
      .create({ ...order(6), amout: 5 } as PaymentCreateParams)
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: "parameter_unknown", param: "amout" });
  });

  it("a missing object is a NotFoundError, a wrong key an AuthenticationError", async () => {
    const missing = await mpay.payments.retrieve("pay_00000000000000000000000000").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ statusCode: 404, type: "not_found_error" });
    await expect(mpay.mandates.retrieve("rmd_00000000000000000000000000")).rejects.toBeInstanceOf(NotFoundError);

    const wrong = new MPay({ secretKey: "sk_test_not_a_real_key", baseUrl: t.baseUrl });
    const failure = await wrong.balances.retrieve().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AuthenticationError);
    expect(failure).toMatchObject({ statusCode: 401, code: "api_key_invalid" });
    expect(String((failure as Error).message)).not.toContain("not_a_real_key");
  });

  it("a capture before approval is a ConflictError", async () => {
    const created = await mpay.payments.create(order(7, { captureMethod: "manual" }));
    await expect(mpay.payments.capture(created.id)).rejects.toMatchObject({
      name: "ConflictError",
      code: "payment_invalid_state",
    });
  });
});

describe("the account, keys and webhook endpoints", () => {
  it("reads and replaces the allowed origins", async () => {
    const account = await mpay.account.retrieve();
    expect(account.allowedOrigins).toEqual([TEST_ORIGIN]);
    const updated = await mpay.account.update({ allowedOrigins: [TEST_ORIGIN, "https://second.example"] });
    expect(updated.allowedOrigins).toEqual([TEST_ORIGIN, "https://second.example"]);
    await mpay.account.update({ allowedOrigins: [TEST_ORIGIN] });
  });

  it("rolls the secret key; the old one works through the grace period", async () => {
    const shop = await t.createMerchant("Rolling Shop");
    const old = new MPay({ secretKey: shop.secretKey, baseUrl: t.baseUrl });
    const rolled = await old.apiKeys.roll({ expiresInSeconds: 60 });
    expect(rolled.secretKey).toMatch(/^sk_test_/);
    await old.balances.retrieve();
    await new MPay({ secretKey: rolled.secretKey, baseUrl: t.baseUrl }).balances.retrieve();
  });

  it("creates, lists, retrieves and disables an endpoint", async () => {
    const endpoint = await mpay.webhookEndpoints.create({ url: "http://127.0.0.1:9/hooks", signatures: ["v1", "v1a"] });
    expect(endpoint).toMatchObject({ object: "webhook_endpoint", status: "enabled" });
    expect(endpoint.v1aPublicKey).toMatch(/^whpk_/);
    expect((await mpay.webhookEndpoints.list()).data.map((e) => e.id)).toContain(endpoint.id);
    expect(await mpay.webhookEndpoints.retrieve(endpoint.id)).toMatchObject({ id: endpoint.id });
    expect((await mpay.webhookEndpoints.del(endpoint.id)).status).toBe("disabled");
    expect((await mpay.webhookEndpoints.deliveries(endpoint.id)).data).toBeInstanceOf(Array);
  });
});
