/**
 * The order store on each database the shop runs on (PGlite always; PostgreSQL when DATABASE_URL is set, as CI
 * does): an event applies once even when two deliveries of it race, events in any order end in the same state, and
 * a payment that is not the order's changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Event } from "@mpay/merchant";
import { freshDatabase, testBackends, type FreshDatabase } from "@mpay/service-kit/testing";
import { type Database, openDatabase } from "./db.ts";
import { type Order, orderState, OrderStore } from "./orders.ts";

/** An event as MPay sends it, for the payment of `order` in `status` with `refunded` won refunded. */
function eventFor(order: Order, type: string, status: string, refunded = 0, paymentId = `pay_${order.id}`): Event {
  const payment = {
    id: paymentId,
    object: "payment",
    status,
    amount: order.amount,
    currency: order.currency,
    orderId: order.id,
    amountRefunded: refunded,
  };
  const data =
    type === "refund.succeeded"
      ? { payment, refund: { id: `ref_${refunded}`, amount: refunded }, amountRefunded: refunded }
      : { payment };
  return { id: `evt_${crypto.randomUUID().replaceAll("-", "")}`, object: "event", type, data } as unknown as Event;
}

describe.each(testBackends())("the shop's order store [%s]", (backend) => {
  let fresh: FreshDatabase;
  let db: Database;
  let store: OrderStore;

  beforeAll(async () => {
    fresh = await freshDatabase(backend, "mall_test");
    db = await openDatabase({ url: fresh.url, dataDir: undefined });
    store = new OrderStore(db);
  });
  afterAll(async () => {
    await db?.close();
    await fresh?.drop();
  });

  const newOrder = () =>
    store.create({
      shopper: "shp_test",
      items: [{ sku: "jeju-tangerines", name: "제주 감귤 5kg", price: 35_000, quantity: 2 }],
      currency: "KRW",
      itemName: "제주 감귤 5kg 2개",
    });

  it("applies an event once when two deliveries of it race", async () => {
    const order = await newOrder();
    const captured = eventFor(order, "payment.captured", "captured");
    const results = await Promise.all([store.applyEvent(captured), store.applyEvent(captured)]);
    expect(results.sort()).toEqual(["applied", "duplicate"]);
    expect(orderState((await store.find(order.id))!)).toBe("paid");
  });

  it("ends in the same state whatever order the events come in", async () => {
    const orders = [await newOrder(), await newOrder()];
    const [a, b] = orders as [Order, Order];
    const events = (order: Order) => [
      eventFor(order, "payment.authorized", "authorized"),
      eventFor(order, "payment.captured", "captured"),
      eventFor(order, "refund.succeeded", "captured", 10_000),
      eventFor(order, "refund.succeeded", "captured", 25_000),
    ];
    for (const event of events(a)) await store.applyEvent(event);
    for (const event of events(b).reverse()) await store.applyEvent(event);
    for (const order of orders) {
      const found = (await store.find(order.id))!;
      expect(found).toMatchObject({ paymentStatus: "captured", amountRefunded: 25_000, paymentId: `pay_${order.id}` });
      expect(found.paidAt).toBeInstanceOf(Date);
      expect(orderState(found)).toBe("partially_refunded");
    }
    // A final state is kept: a late authorization after a cancel changes nothing.
    const canceled = await newOrder();
    await store.applyEvent(eventFor(canceled, "payment.canceled", "canceled"));
    await store.applyEvent(eventFor(canceled, "payment.authorized", "authorized"));
    expect(orderState((await store.find(canceled.id))!)).toBe("failed");
  });

  it("ignores a payment that is not the order's: another amount, another payment, an unknown order", async () => {
    const order = await newOrder();
    await store.attachPayment(order.id, "pay_theorder01");
    const other = eventFor({ ...order, amount: 1_000 }, "payment.captured", "captured", 0, "pay_theorder01");
    expect(await store.applyEvent(other)).toBe("ignored");
    expect(await store.applyEvent(eventFor(order, "payment.captured", "captured", 0, "pay_another001"))).toBe(
      "ignored",
    );
    expect(await store.applyEvent(eventFor({ ...order, id: "ord_nope" }, "payment.captured", "captured"))).toBe(
      "ignored",
    );
    const mandate = { id: "evt_mandate01", object: "event", type: "mandate.created", data: {} } as unknown as Event;
    expect(await store.applyEvent(mandate)).toBe("ignored");
    expect((await store.find(order.id))!.paymentStatus).toBeNull();
  });
});
