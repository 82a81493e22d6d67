import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../db/client.ts";
import { purgeIdempotencyKeys } from "./idempotency.ts";
import { testBackends } from "../testing/databases.ts";
import { authorizeThroughService, call, openTestPay, paymentBody, type TestPay } from "../testing/system.ts";

describe.each(testBackends())("Idempotency-Key [%s]", (backend) => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay(backend);
  });
  afterAll(() => t.close());

  const countOrders = async (orderId: string) => {
    const [row] = await queryRows<{ n: number }>(
      t.system.database.db,
      sql`select count(*)::int as n from payments where order_id = ${orderId}`,
    );
    return Number(row?.n);
  };

  it("replays the first answer byte for byte and creates one payment", async () => {
    const headers = { "idempotency-key": "create-once" };
    const first = await call(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody({ orderId: "idem-1" }),
      headers,
    );
    const second = await call(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody({ orderId: "idem-1" }),
      headers,
    );
    expect(first.status).toBe(200);
    expect(second.raw).toBe(first.raw);
    expect(second.headers["idempotent-replayed"]).toBe("true");
    expect(first.headers["idempotent-replayed"]).toBeUndefined();
    expect(await countOrders("idem-1")).toBe(1);
  });

  it("answers 409 when the same key comes with another body", async () => {
    const headers = { "idempotency-key": "create-twice" };
    await call(t.app, "POST", "/v1/payments", t.merchant.secretKey, paymentBody({ orderId: "idem-2" }), headers);
    const other = await call<{ error: { code: string } }>(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody({ orderId: "idem-2", amount: 1 }),
      headers,
    );
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_key_reused");
    expect(await countOrders("idem-2")).toBe(1);
  });

  it("answers 409 idempotency_key_in_progress while the first request with the key has no answer", async () => {
    const headers = { "idempotency-key": "still-running" };
    const body = paymentBody({ orderId: "idem-6" });
    const first = await call(t.app, "POST", "/v1/payments", t.merchant.secretKey, body, headers);
    expect(first.status).toBe(200);
    // The reservation without its answer: what a request with the key that has not finished leaves behind.
    await t.system.database.db.execute(
      sql`update idempotency_keys set status_code = null, response = null where key = 'still-running'`,
    );
    const retry = await call<{ error: { code: string; type: string } }>(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      body,
      headers,
    );
    expect(retry.status).toBe(409);
    expect(retry.body.error).toMatchObject({ code: "idempotency_key_in_progress", type: "conflict_error" });
    expect(retry.headers["idempotent-replayed"]).toBeUndefined();
    expect(await countOrders("idem-6")).toBe(1);
  });

  it("scopes keys by merchant and by route", async () => {
    const other = await t.createMerchant("Second Shop");
    const headers = { "idempotency-key": "shared-key" };
    const a = await call<{ id: string }>(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody({ orderId: "idem-3" }),
      headers,
    );
    const b = await call<{ id: string }>(
      t.app,
      "POST",
      "/v1/payments",
      other.secretKey,
      paymentBody({ orderId: "idem-3" }),
      headers,
    );
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.id).not.toBe(b.body.id);
    // The same key on another route of the same merchant is a different scope: it runs.
    const cancel = await call<{ status: string }>(
      t.app,
      "POST",
      `/v1/payments/${a.body.id}/cancel`,
      t.merchant.secretKey,
      {},
      headers,
    );
    expect(cancel.body.status).toBe("canceled");
  });

  it("stores no failure: a retry after a rejected request runs afresh", async () => {
    const headers = { "idempotency-key": "fix-and-retry" };
    const bad = await call(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody({ orderId: "idem-4", currency: "XXX" }),
      headers,
    );
    expect(bad.status).toBe(400);
    const good = await call(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody({ orderId: "idem-4" }),
      headers,
    );
    expect(good.status).toBe(200);
  });

  it("forgets keys after 24 hours, so the same key then starts afresh", async () => {
    const headers = { "idempotency-key": "old-key" };
    const first = await call<{ id: string }>(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody({ orderId: "idem-5" }),
      headers,
    );
    expect(await purgeIdempotencyKeys(t.system.database.db, new Date(Date.now() + 23 * 3600_000))).toBe(0);
    expect(await purgeIdempotencyKeys(t.system.database.db, new Date(Date.now() + 25 * 3600_000))).toBeGreaterThan(0);
    const second = await call<{ id: string }>(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody({ orderId: "idem-5" }),
      headers,
    );
    expect(second.body.id).not.toBe(first.body.id);
  });

  it("has one effect for concurrent requests with one key", async () => {
    const { body: payment } = await call<{ id: string }>(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody({ amount: 9000 }),
    );
    await authorizeThroughService(t.system, payment.id);
    const headers = { "idempotency-key": "capture-race" };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(t.app, "POST", `/v1/payments/${payment.id}/capture`, t.merchant.secretKey, { amount: 4000 }, headers),
      ),
    );
    expect(answers.every((a) => a.status === 200 && a.raw === answers[0]!.raw)).toBe(true);
    const [row] = await queryRows<{ n: number }>(
      t.system.database.db,
      sql`select count(*)::int as n from ledger_transactions where payment_id = ${payment.id} and kind = 'capture'`,
    );
    expect(Number(row?.n)).toBe(1);
  });

  // The create and the whole-amount capture reserve the key in their own statements (runIdempotentInline).
  it("has one effect for concurrent creates, and concurrent whole captures, with one key", async () => {
    const createHeaders = { "idempotency-key": "create-race" };
    const creates = await Promise.all(
      Array.from({ length: 10 }, () =>
        call<{ id: string }>(
          t.app,
          "POST",
          "/v1/payments",
          t.merchant.secretKey,
          paymentBody({ orderId: "idem-race" }),
          createHeaders,
        ),
      ),
    );
    expect(creates.every((a) => a.status === 200 && a.raw === creates[0]!.raw)).toBe(true);
    expect(creates.filter((a) => a.headers["idempotent-replayed"] === undefined)).toHaveLength(1);
    expect(await countOrders("idem-race")).toBe(1);

    const paymentId = creates[0]!.body.id;
    await authorizeThroughService(t.system, paymentId);
    const headers = { "idempotency-key": "capture-whole-race" };
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        call(t.app, "POST", `/v1/payments/${paymentId}/capture`, t.merchant.secretKey, {}, headers),
      ),
    );
    expect(answers.every((a) => a.status === 200 && a.raw === answers[0]!.raw)).toBe(true);
    expect(answers.filter((a) => a.headers["idempotent-replayed"] === undefined)).toHaveLength(1);
    const [row] = await queryRows<{ n: number; events: number }>(
      t.system.database.db,
      sql`select (select count(*)::int from ledger_transactions where payment_id = ${paymentId} and kind = 'capture') as n,
                 (select count(*)::int from events where type = 'payment.captured' and data->'payment'->>'id' = ${paymentId}) as events`,
    );
    expect(Number(row?.n)).toBe(1);
    expect(Number(row?.events)).toBe(1);
    // Another key after the capture: the guard holds no more, and the answer says why (not stored).
    const late = await call<{ error: { code: string } }>(
      t.app,
      "POST",
      `/v1/payments/${paymentId}/capture`,
      t.merchant.secretKey,
      {},
      { "idempotency-key": "capture-late" },
    );
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe("payment_invalid_state");
  });

  it("refuses a used key with another, invalid body as reused, before looking at the body", async () => {
    const headers = { "idempotency-key": "create-then-bad" };
    await call(t.app, "POST", "/v1/payments", t.merchant.secretKey, paymentBody({ orderId: "idem-bad" }), headers);
    const bad = await call<{ error: { code: string } }>(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody({ orderId: "idem-bad", currency: "XXX" }),
      headers,
    );
    expect(bad.status).toBe(409);
    expect(bad.body.error.code).toBe("idempotency_key_reused");
    const fresh = await call<{ error: { code: string } }>(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody({ orderId: "idem-bad", currency: "XXX" }),
      { "idempotency-key": "create-bad-fresh" },
    );
    expect(fresh.status).toBe(400);
  });
});
