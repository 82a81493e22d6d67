/**
 * Orders and what MPay's webhooks do to them. An order is created unpaid at checkout; it becomes paid only here,
 * from a verified `payment.authorized` / `payment.captured` event, never from the browser coming back (anyone can
 * open a return URL). Refunds come from `refund.succeeded`.
 *
 * Events may come twice (a redelivery after a lost answer) and in any order (retries overtake each other), so
 * applying one is idempotent and order-independent: each event id is recorded once, in the same transaction as its
 * change; each event carries the whole payment, and the order keeps the furthest state it has seen
 * (requires_approval → authorized → a final state) and the largest refunded amount.
 */
import { randomBytes } from "node:crypto";
import type { Event, EventPayment } from "@mpay/merchant";
import type { Database, Queryable } from "./db.ts";

export type PaymentStatus = "requires_approval" | "authorized" | "captured" | "declined" | "canceled" | "expired";

export interface OrderItem {
  sku: string;
  name: string;
  price: number;
  quantity: number;
}

export interface Order {
  id: string;
  shopper: string;
  items: OrderItem[];
  amount: number;
  currency: string;
  itemName: string;
  paymentId: string | null;
  paymentStatus: PaymentStatus | null;
  amountRefunded: number;
  paidAt: Date | null;
  createdAt: Date;
}

/** What the shopper is shown: derived from the order's row, which only verified webhooks change. */
export type OrderState = "awaiting_payment" | "paid" | "partially_refunded" | "refunded" | "failed";

export function orderState(order: Pick<Order, "paymentStatus" | "amountRefunded" | "amount">): OrderState {
  switch (order.paymentStatus) {
    case null:
    case "requires_approval":
      return "awaiting_payment";
    case "authorized":
    case "captured":
      if (order.amountRefunded >= order.amount) return "refunded";
      return order.amountRefunded > 0 ? "partially_refunded" : "paid";
    default:
      return "failed";
  }
}

/** The furthest a payment can go: a later event never moves an order back. */
const RANK: Record<PaymentStatus, number> = {
  requires_approval: 0,
  authorized: 1,
  captured: 2,
  declined: 2,
  canceled: 2,
  expired: 2,
};

interface OrderRow {
  id: string;
  shopper: string;
  items: OrderItem[] | string;
  amount: number;
  currency: string;
  item_name: string;
  payment_id: string | null;
  payment_status: PaymentStatus | null;
  amount_refunded: number;
  paid_at: Date | string | null;
  created_at: Date | string;
}

const date = (value: Date | string) => (value instanceof Date ? value : new Date(value));

function fromRow(row: OrderRow): Order {
  return {
    id: row.id,
    shopper: row.shopper,
    items: typeof row.items === "string" ? (JSON.parse(row.items) as OrderItem[]) : row.items,
    amount: row.amount,
    currency: row.currency,
    itemName: row.item_name,
    paymentId: row.payment_id,
    paymentStatus: row.payment_status,
    amountRefunded: row.amount_refunded,
    paidAt: row.paid_at === null ? null : date(row.paid_at),
    createdAt: date(row.created_at),
  };
}

/** What `applyEvent` did: changed the order, found the event already applied, or had nothing to change. */
export type ApplyResult = "applied" | "duplicate" | "ignored";

/** The payment an event is about: every payment event and `refund.succeeded` carry the whole payment. */
function paymentOf(event: Event): EventPayment | undefined {
  switch (event.type) {
    case "payment.authorized":
    case "payment.captured":
    case "payment.canceled":
    case "payment.declined":
    case "payment.expired":
    case "refund.succeeded":
      return event.data.payment;
    default:
      return undefined;
  }
}

export class OrderStore {
  constructor(private readonly db: Database) {}

  /** A new unpaid order; its id is also MPay's `orderId` and the payment's idempotency key's root. */
  async create(input: { shopper: string; items: OrderItem[]; currency: string; itemName: string }): Promise<Order> {
    const id = `ord_${randomBytes(10).toString("hex")}`;
    const amount = input.items.reduce((sum, item) => sum + item.price * item.quantity, 0);
    const [row] = await this.db.query<OrderRow>(
      `insert into orders (id, shopper, items, amount, currency, item_name) values ($1, $2, $3, $4, $5, $6) returning *`,
      [id, input.shopper, JSON.stringify(input.items), amount, input.currency, input.itemName],
    );
    return fromRow(row!);
  }

  /** Remembers which MPay payment pays the order (once: a retried checkout gets the same payment back). */
  async attachPayment(orderId: string, paymentId: string): Promise<void> {
    await this.db.query(`update orders set payment_id = $2 where id = $1 and payment_id is null`, [orderId, paymentId]);
  }

  async find(id: string): Promise<Order | undefined> {
    const [row] = await this.db.query<OrderRow>(`select * from orders where id = $1`, [id]);
    return row ? fromRow(row) : undefined;
  }

  async listFor(shopper: string, limit = 50): Promise<Order[]> {
    const rows = await this.db.query<OrderRow>(
      `select * from orders where shopper = $1 order by created_at desc limit $2`,
      [shopper, limit],
    );
    return rows.map(fromRow);
  }

  /**
   * Applies a verified event to its order. Idempotent: the event id is claimed in the transaction that changes the
   * order, so a duplicate (or a concurrent second delivery) finds it taken and changes nothing.
   */
  async applyEvent(event: Event): Promise<ApplyResult> {
    return this.db.transaction(async (tx) => {
      const payment = paymentOf(event);
      const claimed = await tx.query<{ id: string }>(
        `insert into webhook_events (id, type, order_id) values ($1, $2, $3) on conflict (id) do nothing returning id`,
        [event.id, event.type, payment?.orderId ?? null],
      );
      if (claimed.length === 0) return "duplicate";
      // Another integration's payment (`npm run demo` pays as Demo Mall too), or an event this shop does not use.
      if (!payment) return "ignored";
      return applyPayment(tx, payment);
    });
  }

  async setting(key: string): Promise<string | undefined> {
    const [row] = await this.db.query<{ value: string }>(`select value from settings where key = $1`, [key]);
    return row?.value;
  }

  async saveSetting(key: string, value: string): Promise<void> {
    await this.db.query(
      `insert into settings (key, value) values ($1, $2) on conflict (key) do update set value = excluded.value`,
      [key, value],
    );
  }
}

async function applyPayment(tx: Queryable, payment: EventPayment): Promise<ApplyResult> {
  const [row] = await tx.query<OrderRow>(`select * from orders where id = $1 for update`, [payment.orderId]);
  if (!row) return "ignored";
  const order = fromRow(row);
  // The payment must be the one this order asked for: same payment, same amount and currency.
  if (
    (order.paymentId !== null && order.paymentId !== payment.id) ||
    order.amount !== payment.amount ||
    order.currency !== payment.currency
  ) {
    return "ignored";
  }
  const current = order.paymentStatus;
  const status = current !== null && RANK[current] >= RANK[payment.status] ? current : payment.status;
  const paid = status === "authorized" || status === "captured";
  await tx.query(
    `update orders set payment_id = coalesce(payment_id, $2), payment_status = $3,
       amount_refunded = greatest(amount_refunded, $4),
       paid_at = case when $5::boolean then coalesce(paid_at, now()) else paid_at end
     where id = $1`,
    [order.id, payment.id, status, payment.amountRefunded, paid],
  );
  return "applied";
}
