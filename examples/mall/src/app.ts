/**
 * The shop's HTTP side (Fastify): pages, cart, checkout through MPay, and the webhook that marks orders paid.
 * Everything MPay-specific goes through @mpay/merchant: `payments.create` at checkout, `webhooks.verify` on the
 * webhook route.
 */
import { readFileSync } from "node:fs";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { type MPay, MPayError, WebhookVerificationError } from "@mpay/merchant";
import { type Brand, productBySku } from "./brands.ts";
import {
  type CartLine,
  changeCart,
  CookieSigner,
  decodeCart,
  newShopperId,
  parseCookies,
  setCookie,
} from "./cookies.ts";
import { illustrationSvg } from "./illustrations.ts";
import { type Order, type OrderItem, orderState, type OrderStore } from "./orders.ts";
import {
  cartPage,
  type CartView,
  layout,
  messagePage,
  orderPage,
  ordersPage,
  productGrid,
  productPage,
} from "./views/pages.ts";

const STYLE = readFileSync(new URL("./views/style.css", import.meta.url), "utf8");

export interface MallOptions {
  brand: Brand;
  mpay: MPay;
  orders: OrderStore;
  /** Signs the cart and shopper cookies. */
  cookieKey: Buffer;
  /** Where browsers and MPay reach this shop. */
  publicUrl: string;
  /** The whsec_ secrets a webhook may be signed with (the endpoint's; the merchant's during a change). */
  webhookSecrets: () => readonly string[];
  log?: (line: string) => void;
}

/** The path MPay posts events to (its webhook endpoint is `<publicUrl>/webhooks/mpay`). */
export const WEBHOOK_PATH = "/webhooks/mpay";

export function buildMall(options: MallOptions): FastifyInstance {
  const { brand, mpay, orders, publicUrl } = options;
  const signer = new CookieSigner(options.cookieKey);
  // Cookies ignore the port: two shops on one host (4400, 4401) would overwrite each other's cart without a prefix.
  const CART = `${brand.id}.cart`;
  const SHOPPER = `${brand.id}.shopper`;
  const log = options.log ?? (() => undefined);
  const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });

  // The webhook's signature is over the exact bytes sent: keep the JSON body as text, parse it only once verified.
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => done(null, body));
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  const cartOf = (request: FastifyRequest): CartLine[] =>
    decodeCart(signer.verify(CART, parseCookies(request.headers.cookie)[CART])).filter((line) =>
      productBySku(brand, line.sku),
    );
  const cartCount = (cart: CartLine[]) => cart.reduce((sum, line) => sum + line.quantity, 0);
  const saveCart = (reply: FastifyReply, cart: CartLine[]) =>
    reply.header("set-cookie", setCookie(CART, signer.sign(CART, JSON.stringify(cart))));
  /** The browser's shopper id (its order history), made on first need. */
  const shopperOf = (request: FastifyRequest, reply: FastifyReply): string => {
    const known = signer.verify(SHOPPER, parseCookies(request.headers.cookie)[SHOPPER]);
    if (known) return known;
    const id = newShopperId();
    reply.header("set-cookie", setCookie(SHOPPER, signer.sign(SHOPPER, id), 365 * 24 * 3600));
    return id;
  };
  const page = (
    reply: FastifyReply,
    request: FastifyRequest,
    title: string,
    body: Parameters<typeof layout>[1],
    extra: { status?: number; refreshSeconds?: number } = {},
  ) =>
    reply
      .code(extra.status ?? 200)
      .type("text/html; charset=utf-8")
      .send(
        layout(
          {
            brand,
            cartCount: cartCount(cartOf(request)),
            title,
            ...(extra.refreshSeconds ? { refreshSeconds: extra.refreshSeconds } : {}),
          },
          body,
        ),
      );
  const form = (request: FastifyRequest): Record<string, string> =>
    typeof request.body === "object" && request.body !== null ? (request.body as Record<string, string>) : {};
  const cartView = (cart: CartLine[]): CartView => {
    const lines = cart.flatMap((line) => {
      const product = productBySku(brand, line.sku);
      return product ? [{ product, quantity: line.quantity }] : [];
    });
    return { lines, total: lines.reduce((sum, line) => sum + line.product.price * line.quantity, 0) };
  };

  app.get("/style.css", (_request, reply) =>
    reply.type("text/css; charset=utf-8").header("cache-control", "max-age=300").send(STYLE),
  );
  app.get("/healthz", () => ({ ok: true, brand: brand.id }));
  app.get<{ Params: { file: string } }>("/images/:file", (request, reply) => {
    const product = productBySku(brand, request.params.file.replace(/\.svg$/, ""));
    if (!product) return reply.code(404).send();
    return reply
      .type("image/svg+xml")
      .header("cache-control", "max-age=3600")
      .send(illustrationSvg(product.picture, product.name));
  });

  app.get("/", (request, reply) => page(reply, request, "오늘의 상품", productGrid(brand)));
  app.get<{ Params: { sku: string } }>("/products/:sku", (request, reply) => {
    const product = productBySku(brand, request.params.sku);
    if (!product)
      return page(
        reply,
        request,
        "상품 없음",
        messagePage("상품을 찾을 수 없어요", "판매가 끝났거나 주소가 잘못되었어요."),
        { status: 404 },
      );
    return page(reply, request, product.name, productPage(product));
  });

  app.get("/cart", (request, reply) => page(reply, request, "장바구니", cartPage(cartView(cartOf(request)))));
  const cartChange = (mode: "add" | "set") => (request: FastifyRequest, reply: FastifyReply) => {
    const { sku = "", quantity = "1" } = form(request);
    const count = Number.parseInt(quantity, 10);
    if (!productBySku(brand, sku) || !Number.isInteger(count) || count < 0)
      return reply.code(400).type("text/plain").send("bad cart change");
    saveCart(reply, changeCart(cartOf(request), sku, count, mode));
    return reply.redirect("/cart", 303);
  };
  app.post("/cart/add", cartChange("add"));
  app.post("/cart/update", cartChange("set"));

  /**
   * Checkout: the order is written first (unpaid), then MPay's payment is created for it with an idempotency key
   * made from the order id, so a retry — a double click, a timeout, the "continue" button — gets the same payment
   * back instead of a second one. The browser goes to MPay's hosted checkout; the order becomes paid only when the
   * signed webhook says so.
   */
  async function startPayment(order: Order, reply: FastifyReply, request: FastifyRequest) {
    try {
      const payment = await mpay.payments.create(
        {
          amount: order.amount,
          currency: order.currency,
          orderId: order.id,
          itemName: order.itemName,
          returnUrl: `${publicUrl}/orders/${order.id}/return`,
          cancelUrl: `${publicUrl}/orders/${order.id}`,
        },
        { idempotencyKey: `checkout-${order.id}` },
      );
      await orders.attachPayment(order.id, payment.id);
      return reply.redirect(payment.checkoutUrl, 303);
    } catch (error) {
      // The type and code only: an error's message never carries the key, but the shopper needs none of it.
      log(
        `payment for ${order.id} not created: ${error instanceof MPayError ? `${error.type} ${error.code ?? ""}` : error instanceof Error ? error.name : "error"}`,
      );
      return page(
        reply,
        request,
        "결제 오류",
        messagePage("결제를 시작하지 못했어요", "잠시 후 주문 상세에서 다시 시도해 주세요. 장바구니는 그대로예요."),
        { status: 502 },
      );
    }
  }

  app.post("/checkout", async (request, reply) => {
    const cart = cartView(cartOf(request));
    if (cart.lines.length === 0) return reply.redirect("/cart", 303);
    const items: OrderItem[] = cart.lines.map(({ product, quantity }) => ({
      sku: product.sku,
      name: product.name,
      price: product.price,
      quantity,
    }));
    const first = items[0]!;
    const others = items.length - 1;
    const order = await orders.create({
      shopper: shopperOf(request, reply),
      items,
      currency: "KRW",
      itemName:
        others > 0
          ? `${first.name} 외 ${others}건`
          : `${first.name}${first.quantity > 1 ? ` ${first.quantity}개` : ""}`,
    });
    // The cart empties once the order exists; the order page can restart its payment.
    reply.header("set-cookie", setCookie(CART, signer.sign(CART, "[]")));
    return startPayment(order, reply, request);
  });

  app.post<{ Params: { id: string } }>("/orders/:id/pay", async (request, reply) => {
    const order = await orders.find(request.params.id);
    if (!order) return reply.code(404).send();
    if (orderState(order) !== "awaiting_payment") return reply.redirect(`/orders/${order.id}`, 303);
    return startPayment(order, reply, request);
  });

  const showOrder =
    (returned: boolean) => async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const order = await orders.find(request.params.id);
      if (!order)
        return page(reply, request, "주문 없음", messagePage("주문을 찾을 수 없어요", "주소를 확인해 주세요."), {
          status: 404,
        });
      // The return from the checkout is only a hint that the webhook may be on its way: the page reloads while the
      // order waits for it, and shows exactly what the database says.
      const waiting = orderState(order) === "awaiting_payment";
      return page(
        reply,
        request,
        "주문 상세",
        orderPage(order, { returned, retry: !returned }),
        waiting && returned ? { refreshSeconds: 2 } : {},
      );
    };
  app.get("/orders/:id", showOrder(false));
  app.get("/orders/:id/return", showOrder(true));
  app.get<{ Params: { id: string } }>("/orders/:id/status", async (request, reply) => {
    const order = await orders.find(request.params.id);
    if (!order) return reply.code(404).send({ error: "order_not_found" });
    return {
      id: order.id,
      state: orderState(order),
      paymentStatus: order.paymentStatus,
      amount: order.amount,
      amountRefunded: order.amountRefunded,
    };
  });
  app.get("/orders", async (request, reply) =>
    page(reply, request, "주문 내역", ordersPage(await orders.listFor(shopperOf(request, reply)))),
  );

  /** MPay's events: verified on the raw body first; a bad signature is a 400 and changes nothing. */
  app.post(WEBHOOK_PATH, async (request, reply) => {
    const body = typeof request.body === "string" ? request.body : "";
    let event;
    try {
      event = await mpay.webhooks.verify(body, request.headers, [...options.webhookSecrets()]);
    } catch (error) {
      if (error instanceof WebhookVerificationError) {
        log(`webhook refused: ${error.message}`);
        return reply.code(400).send({ error: "webhook_signature_invalid" });
      }
      throw error;
    }
    const result = await orders.applyEvent(event);
    return reply.send({ received: true, result });
  });

  app.setNotFoundHandler((request, reply) =>
    page(reply, request, "없는 페이지", messagePage("페이지를 찾을 수 없어요", request.url.slice(0, 80)), {
      status: 404,
    }),
  );
  return app;
}
