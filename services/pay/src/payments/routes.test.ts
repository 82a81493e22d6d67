import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testBackends } from "../testing/databases.ts";
import { authorizeThroughService, call, openTestPay, paymentBody, type TestPay } from "../testing/system.ts";

type Payment = {
  id: string;
  status: string;
  amount: number;
  amountCaptured: number;
  amountRefunded: number;
  amountRefundable: number;
  checkoutUrl: string;
  declineCode: string | null;
};
type ErrorAnswer = { error: { type: string; code: string; message: string; param?: string } };

describe.each(testBackends())("payments API [%s]", (backend) => {
  let t: TestPay;
  let key: string;

  beforeAll(async () => {
    t = await openTestPay(backend);
    key = t.merchant.secretKey;
  });
  afterAll(() => t.close());

  const create = (overrides: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    call<Payment>(t.app, "POST", "/v1/payments", key, paymentBody(overrides), headers);

  it("creates a payment awaiting approval, with a checkout URL", async () => {
    const res = await create();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "requires_approval", amount: 35000, currency: "KRW", amountCaptured: 0 });
    expect(res.body.id).toMatch(/^pay_[0-9A-Z]{26}$/);
    expect(res.body.checkoutUrl).toBe(`http://localhost:4300/checkout/${res.body.id}`);
    expect(res.headers["request-id"]).toMatch(/^req_/);
    const fetched = await call<Payment>(t.app, "GET", `/v1/payments/${res.body.id}`, key);
    // The one-payment read adds what the payer shared (nothing here); otherwise it is the create answer.
    expect(fetched.body).toEqual({ ...res.body, sharedDetails: null });
  });

  it("captures an authorized payment once, partially, and releases the rest", async () => {
    const { body: payment } = await create({ amount: 50000 });
    await authorizeThroughService(t.system, payment.id);
    const captured = await call<Payment>(t.app, "POST", `/v1/payments/${payment.id}/capture`, key, { amount: 30000 });
    expect(captured.status).toBe(200);
    expect(captured.body).toMatchObject({ status: "captured", amountCaptured: 30000, amountRefundable: 30000 });
    const again = await call<ErrorAnswer>(t.app, "POST", `/v1/payments/${payment.id}/capture`, key, {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("payment_invalid_state");
    const balances = await call<{ data: Array<{ account: string; balance: number }> }>(
      t.app,
      "GET",
      "/v1/balances",
      key,
    );
    const byAccount = Object.fromEntries(balances.body.data.map((b) => [b.account, b.balance]));
    expect(byAccount["issuer_receivable"]).toBe(30000);
    expect(byAccount["merchant_payable"]).toBe(-30000);
    expect(byAccount["issuer_authorized"]).toBe(0);
  });

  it("refuses to capture more than authorized, or a payment not yet approved", async () => {
    const { body: payment } = await create({ amount: 1000 });
    const early = await call<ErrorAnswer>(t.app, "POST", `/v1/payments/${payment.id}/capture`, key, {});
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe("payment_invalid_state");
    await authorizeThroughService(t.system, payment.id);
    const over = await call<ErrorAnswer>(t.app, "POST", `/v1/payments/${payment.id}/capture`, key, { amount: 1001 });
    expect(over.status).toBe(400);
    expect(over.body.error.code).toBe("capture_amount_invalid");
    const still = await call<Payment>(t.app, "GET", `/v1/payments/${payment.id}`, key);
    expect(still.body.status).toBe("authorized");
  });

  it("refunds partially, several times, never more than captured", async () => {
    const { body: payment } = await create({ amount: 35000 });
    await authorizeThroughService(t.system, payment.id);
    await call(t.app, "POST", `/v1/payments/${payment.id}/capture`, key, {});
    const first = await call<{ id: string; amount: number }>(t.app, "POST", `/v1/payments/${payment.id}/refunds`, key, {
      amount: 5000,
      reason: "size",
    });
    expect(first.status).toBe(200);
    expect(first.body.id).toMatch(/^re_/);
    const second = await call(t.app, "POST", `/v1/payments/${payment.id}/refunds`, key, { amount: 30000 });
    expect(second.status).toBe(200);
    const third = await call<ErrorAnswer>(t.app, "POST", `/v1/payments/${payment.id}/refunds`, key, { amount: 1 });
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe("refund_exceeds_captured");
    const after = await call<Payment>(t.app, "GET", `/v1/payments/${payment.id}`, key);
    expect(after.body).toMatchObject({ status: "captured", amountRefunded: 35000, amountRefundable: 0 });
    const list = await call<{ data: Array<{ amount: number }> }>(
      t.app,
      "GET",
      `/v1/payments/${payment.id}/refunds`,
      key,
    );
    expect(list.body.data.map((r) => r.amount).sort()).toEqual([30000, 5000]);
    const event = await call<{
      data: Array<{ type: string; data: { amountRefunded: number; amountRefundable: number } }>;
    }>(t.app, "GET", "/v1/events?type=refund.succeeded&limit=1", key);
    expect(event.body.data[0]?.data).toMatchObject({ amountRefunded: 35000, amountRefundable: 0 });
  });

  it("refuses a refund of a payment that is not captured", async () => {
    const { body: payment } = await create();
    const res = await call<ErrorAnswer>(t.app, "POST", `/v1/payments/${payment.id}/refunds`, key, { amount: 100 });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("payment_invalid_state");
  });

  it("cancels a payment awaiting approval, and voids an authorization", async () => {
    const { body: pending } = await create();
    const canceled = await call<Payment>(t.app, "POST", `/v1/payments/${pending.id}/cancel`, key);
    expect(canceled.body.status).toBe("canceled");
    const { body: authorized } = await create();
    await authorizeThroughService(t.system, authorized.id);
    const voided = await call<Payment>(t.app, "POST", `/v1/payments/${authorized.id}/cancel`, key, {});
    expect(voided.body.status).toBe("canceled");
    const capture = await call<ErrorAnswer>(t.app, "POST", `/v1/payments/${authorized.id}/capture`, key, {});
    expect(capture.body.error.code).toBe("payment_invalid_state");
  });

  it("captures automatically when the issuer approves an automatic-capture payment", async () => {
    const { body: payment } = await create({ captureMethod: undefined });
    await authorizeThroughService(t.system, payment.id);
    const after = await call<Payment>(t.app, "GET", `/v1/payments/${payment.id}`, key);
    expect(after.body).toMatchObject({ status: "captured", amountCaptured: 35000 });
  });

  it("records a decline with the issuer's code", async () => {
    const { body: payment } = await create();
    await t.system.database.db.transaction((tx) =>
      t.system.payments.recordIssuerDecision(tx, payment.id, {
        approved: false,
        issuerId: "test-issuer",
        declineCode: "insufficient_funds",
      }),
    );
    const after = await call<Payment>(t.app, "GET", `/v1/payments/${payment.id}`, key);
    expect(after.body).toMatchObject({ status: "declined", declineCode: "insufficient_funds" });
  });

  it("lists newest first with cursor pagination and filters", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create({ orderId: "page-test" })).body.id);
    const page1 = await call<{ data: Payment[]; hasMore: boolean }>(
      t.app,
      "GET",
      "/v1/payments?limit=2&orderId=page-test",
      key,
    );
    expect(page1.body.data.map((p) => p.id)).toEqual([ids[4], ids[3]]);
    expect(page1.body.hasMore).toBe(true);
    const page3 = await call<{ data: Payment[]; hasMore: boolean }>(
      t.app,
      "GET",
      `/v1/payments?limit=2&orderId=page-test&startingAfter=${ids[2]}`,
      key,
    );
    expect(page3.body.data.map((p) => p.id)).toEqual([ids[1], ids[0]]);
    expect(page3.body.hasMore).toBe(false);
    const captured = await call<{ data: Payment[] }>(t.app, "GET", "/v1/payments?status=captured&limit=100", key);
    expect(captured.body.data.length).toBeGreaterThan(0);
    expect(captured.body.data.every((p) => p.status === "captured")).toBe(true);
  });

  it("hides another merchant's payments entirely", async () => {
    const other = await t.createMerchant("Other Shop");
    const { body: mine } = await create();
    for (const [method, url] of [
      ["GET", `/v1/payments/${mine.id}`],
      ["POST", `/v1/payments/${mine.id}/capture`],
      ["POST", `/v1/payments/${mine.id}/cancel`],
      ["POST", `/v1/payments/${mine.id}/refunds`],
    ] as const) {
      const res = await call<ErrorAnswer>(t.app, method, url, other.secretKey, method === "POST" ? {} : undefined);
      expect(res.status, url).toBe(404);
      expect(res.body.error.code).toBe("resource_missing");
    }
    const list = await call<{ data: Payment[] }>(t.app, "GET", "/v1/payments?limit=100", other.secretKey);
    expect(list.body.data.map((p) => p.id)).not.toContain(mine.id);
    expect((await call<Payment>(t.app, "GET", `/v1/payments/${mine.id}`, key)).body.status).toBe("requires_approval");
  });

  it("expires payments past their approval and authorization windows, releasing holds", async () => {
    const { body: unapproved } = await create();
    const { body: uncaptured } = await create();
    await authorizeThroughService(t.system, uncaptured.id);
    const later = new Date(Date.now() + 8 * 86_400_000);
    const expired = await t.system.payments.expireDue(later);
    expect(expired).toBeGreaterThanOrEqual(2);
    for (const id of [unapproved.id, uncaptured.id]) {
      expect((await call<Payment>(t.app, "GET", `/v1/payments/${id}`, key)).body.status).toBe("expired");
    }
    const events = await call<{ data: Array<{ data: { payment: { id: string } } }> }>(
      t.app,
      "GET",
      "/v1/events?type=payment.expired&limit=100",
      key,
    );
    expect(events.body.data.map((e) => e.data.payment.id)).toEqual(
      expect.arrayContaining([unapproved.id, uncaptured.id]),
    );
    expect((await t.system.ledger.verify(t.system.database.db)).ok).toBe(true);
  });

  it("keeps the ledger balanced and the audit chain intact through all of the above", async () => {
    const ledger = await t.system.ledger.verify(t.system.database.db);
    expect(ledger.problems).toEqual([]);
    expect(ledger.transactions).toBeGreaterThan(5);
    const audit = await t.system.audit.verify();
    expect(audit.problems).toEqual([]);
    expect(audit.entries).toBeGreaterThan(2);
  });
});
