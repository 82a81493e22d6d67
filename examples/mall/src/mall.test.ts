/**
 * The shop against a real pay server in this process (services/pay's test kit, PGlite, its webhook worker on):
 * a cart checked out creates the payment through @mpay/merchant and sends the browser to the checkout; the order
 * stays unpaid when the browser comes back, and becomes paid only when the signed webhook arrives. Then what a
 * webhook receiver must survive: the same event twice, events out of order, a bad signature or a changed body
 * (400, nothing changed), a refund made through the SDK marking the refunded amount.
 */
import { createServer, type AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Event, MPay, webhookTestHeaders } from "@mpay/merchant";
import {
  authorizeThroughService,
  openTestPay,
  type TestMerchant,
  type TestPay,
} from "../../../services/pay/src/testing/system.ts";
import { buildMall, WEBHOOK_PATH } from "./app.ts";
import { BRANDS } from "./brands.ts";
import { type Database, openDatabase } from "./db.ts";
import { orderState, OrderStore } from "./orders.ts";
import { ensureWebhookEndpoint } from "./setup.ts";

let pay: TestPay;
let payUrl: string;
let merchant: TestMerchant;
let db: Database;
let orders: OrderStore;
let mall: FastifyInstance;
let mallUrl: string;
let mpay: MPay;
let secrets: string[];
const brand = BRANDS["demo-mall"]!;

beforeAll(async () => {
  pay = await openTestPay("pglite", {
    workers: true,
    webhooks: {
      maxAttempts: 3,
      baseDelayMs: 200,
      maxDelayMs: 1000,
      timeoutMs: 5000,
      pollIntervalMs: 50,
      batchSize: 20,
    },
  });
  payUrl = await pay.app.listen({ host: "127.0.0.1", port: 0 });
  pay.system.startWorkers();
  db = await openDatabase({ dataDir: undefined });
  orders = new OrderStore(db);
  // The shop's origin is the merchant's return origin and its webhook URL's.
  const port = await freePort();
  mallUrl = `http://127.0.0.1:${port}`;
  merchant = await pay.createMerchant("Demo Mall", [mallUrl]);
  mpay = new MPay({ secretKey: merchant.secretKey, baseUrl: payUrl });
  mall = buildMall({
    brand,
    mpay,
    orders,
    cookieKey: Buffer.alloc(32, 7),
    publicUrl: mallUrl,
    webhookSecrets: () => secrets,
  });
  await mall.listen({ host: "127.0.0.1", port });
  const endpoint = await ensureWebhookEndpoint(mpay, orders, {
    url: `${mallUrl}${WEBHOOK_PATH}`,
    secretKey: merchant.secretKey,
  });
  // The endpoint's own secret once the pay server answers one; the merchant's meanwhile (it signs today).
  secrets = [endpoint.secret, merchant.webhookSecret].filter((s): s is string => typeof s === "string");
  // Started again, the shop finds its endpoint in its database and makes no second one.
  expect(
    await ensureWebhookEndpoint(mpay, orders, { url: `${mallUrl}${WEBHOOK_PATH}`, secretKey: merchant.secretKey }),
  ).toEqual(endpoint);
  expect((await mpay.webhookEndpoints.list()).data.map((e) => e.id)).toEqual([endpoint.id]);
}, 120_000);

afterAll(async () => {
  await mall?.close();
  await db?.close();
  await pay?.close();
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A browser's cookies across requests (the cart and shopper cookies). */
class Browser {
  cookies = new Map<string, string>();
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  async send(method: "GET" | "POST", url: string, form?: Record<string, string>) {
    const response = await mall.inject({
      method,
      url,
      headers: {
        cookie: this.header(),
        ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
    });
    const set = response.headers["set-cookie"];
    for (const line of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = line.split(";");
      const at = pair!.indexOf("=");
      this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    return response;
  }
}

async function checkout(): Promise<{ orderId: string; paymentId: string; browser: Browser }> {
  const browser = new Browser();
  await browser.send("POST", "/cart/add", { sku: "jeju-tangerines", quantity: "1" });
  await browser.send("POST", "/cart/add", { sku: "ceramic-mug", quantity: "2" });
  const cart = await browser.send("GET", "/cart");
  expect(cart.body).toContain("71,000원");
  const answer = await browser.send("POST", "/checkout");
  expect(answer.statusCode, answer.body).toBe(303);
  const paymentId = /\/checkout\/(pay_\w+)$/.exec(answer.headers.location as string)?.[1];
  expect(paymentId).toBeDefined();
  const [order] = await orders.listFor(
    // The shopper id is in the signed cookie; the order history answers it.
    (await db.query<{ shopper: string }>("select shopper from orders where payment_id = $1", [paymentId]))[0]!.shopper,
  );
  return { orderId: order!.id, paymentId: paymentId!, browser };
}

async function untilState(orderId: string, state: string) {
  await expect
    .poll(async () => orderState((await orders.find(orderId))!), { timeout: 20_000, interval: 100 })
    .toBe(state);
}

async function eventsOf(paymentId: string): Promise<Event[]> {
  const all: Event[] = [];
  for await (const event of mpay.events.list({ limit: 100 })) {
    const data = event.data as { payment?: { id?: string } };
    if (data.payment?.id === paymentId) all.push(event as Event);
  }
  return all;
}

/** Posts an event to the shop's webhook route signed as MPay signs it (the SDK's test headers). */
function deliver(event: Event, secret = secrets[0]!, body = JSON.stringify(event)) {
  return mall.inject({
    method: "POST",
    url: WEBHOOK_PATH,
    payload: body,
    headers: webhookTestHeaders({ payload: body, secret }),
  });
}

describe("examples/mall against a real pay server [pglite]", () => {
  it("creates the payment through the SDK at checkout, stays unpaid on the browser's return, and is paid by the verified webhook", async () => {
    const { orderId, paymentId, browser } = await checkout();
    const order = (await orders.find(orderId))!;
    expect(order).toMatchObject({ amount: 71_000, currency: "KRW", paymentId, paymentStatus: null });
    expect(order.itemName).toBe("제주 감귤 5kg 외 1건");
    const payment = await mpay.payments.retrieve(paymentId);
    expect(payment).toMatchObject({ amount: 71_000, orderId, returnUrl: `${mallUrl}/orders/${orderId}/return` });

    // The checkout again (a double click, a retry): the same payment, not a second one.
    const again = await browser.send("POST", `/orders/${orderId}/pay`);
    expect(again.headers.location).toBe(payment.checkoutUrl);

    // The browser comes back, even claiming success in the query: still waiting, the page reloads itself.
    const returned = await browser.send("GET", `/orders/${orderId}/return?status=authorized`);
    expect(returned.body).toContain("결제 확인 중");
    expect(returned.body).toContain('http-equiv="refresh"');
    expect(orderState((await orders.find(orderId))!)).toBe("awaiting_payment");

    // The payer approves (the issuer's decision, through the pay server's own service): the webhook marks it paid.
    await authorizeThroughService(pay.system, paymentId);
    await untilState(orderId, "paid");
    const paid = await browser.send("GET", `/orders/${orderId}`);
    expect(paid.body).toContain("결제 완료");
    expect(paid.body).not.toContain('http-equiv="refresh"');
    const history = await browser.send("GET", "/orders");
    expect(history.body).toContain(orderId);

    // A partial refund through the SDK: refund.succeeded marks the refunded amount.
    await mpay.refunds.create(paymentId, { amount: 5_000, reason: "one mug arrived chipped" });
    await untilState(orderId, "partially_refunded");
    expect((await orders.find(orderId))!.amountRefunded).toBe(5_000);
    expect((await browser.send("GET", `/orders/${orderId}`)).body).toContain("5,000원 환불되었어요");
  });

  it("applies an event once however often it comes, and keeps the furthest state whatever the order", async () => {
    const { orderId, paymentId } = await checkout();
    await authorizeThroughService(pay.system, paymentId);
    await untilState(orderId, "paid");
    await mpay.refunds.create(paymentId, { amount: 3_000 });
    await untilState(orderId, "partially_refunded");
    const events = await eventsOf(paymentId);
    const byType = (type: string) => events.find((event) => event.type === type)!;
    expect(events.map((event) => event.type).sort()).toEqual([
      "payment.authorized",
      "payment.captured",
      "refund.succeeded",
    ]);

    // Redelivered (the answer was lost): a duplicate, nothing changes.
    const before = await orders.find(orderId);
    for (const event of events) {
      const answer = await deliver(event);
      expect(answer.statusCode, answer.body).toBe(200);
      expect(answer.json()).toEqual({ received: true, result: "duplicate" });
    }
    expect(await orders.find(orderId)).toEqual(before);

    // Out of order, on a fresh order's database row: the refund first, then the capture, then the authorization.
    const fresh = await openDatabase({ dataDir: undefined });
    try {
      const store = new OrderStore(fresh);
      await fresh.query(
        "insert into orders (id, shopper, items, amount, currency, item_name, payment_id) values ($1, 'shp_x', '[]', $2, 'KRW', 'x', $3)",
        [orderId, 71_000, paymentId],
      );
      expect(await store.applyEvent(byType("refund.succeeded"))).toBe("applied");
      expect(orderState((await store.find(orderId))!)).toBe("partially_refunded");
      expect(await store.applyEvent(byType("payment.captured"))).toBe("applied");
      expect(await store.applyEvent(byType("payment.authorized"))).toBe("applied");
      expect(await store.find(orderId)).toMatchObject({ paymentStatus: "captured", amountRefunded: 3_000 });
      expect(await store.applyEvent(byType("payment.authorized"))).toBe("duplicate");
    } finally {
      await fresh.close();
    }
  });

  it("answers 400 to a bad signature or a changed body and changes nothing", async () => {
    const { orderId, paymentId } = await checkout();
    // An event as a forger would make it: the shop's real order, a payment claimed captured.
    const payment = await mpay.payments.retrieve(paymentId);
    const forged = {
      id: "evt_forged0000000000000000",
      object: "event",
      type: "payment.captured",
      createdAt: new Date().toISOString(),
      livemode: false,
      data: { payment: { ...payment, status: "captured", amountCaptured: payment.amount } },
    } as unknown as Event;
    const wrongSecret = `whsec_${Buffer.alloc(32, 1).toString("base64")}`;
    const bad = await deliver(forged, wrongSecret);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: "webhook_signature_invalid" });

    // Signed right, then changed on the way: refused too.
    const body = JSON.stringify(forged);
    const headers = webhookTestHeaders({ payload: body, secret: secrets[0]! });
    const changed = await mall.inject({
      method: "POST",
      url: WEBHOOK_PATH,
      payload: body.replace('"amountRefunded":0', '"amountRefunded":1'),
      headers,
    });
    expect(changed.statusCode).toBe(400);
    const unsigned = await mall.inject({
      method: "POST",
      url: WEBHOOK_PATH,
      payload: body,
      headers: { "content-type": "application/json" },
    });
    expect(unsigned.statusCode).toBe(400);

    expect(orderState((await orders.find(orderId))!)).toBe("awaiting_payment");
    expect((await db.query("select id from webhook_events where id = $1", [forged.id])).length).toBe(0);
  });

  it("refuses a cart change for a product it does not sell, and starts no payment for an empty cart", async () => {
    const browser = new Browser();
    expect((await browser.send("POST", "/cart/add", { sku: "nope", quantity: "1" })).statusCode).toBe(400);
    const answer = await browser.send("POST", "/checkout");
    expect(answer.statusCode).toBe(303);
    expect(answer.headers.location).toBe("/cart");
    // A cart cookie changed by hand is not believed: the cart is empty.
    browser.cookies.set(`${brand.id}.cart`, "W3sic2t1IjoiamVqdS10YW5nZXJpbmVzIiwicXVhbnRpdHkiOjV9XQ.forged");
    expect((await browser.send("GET", "/cart")).body).toContain("장바구니가 비어 있어요");
  });
});
