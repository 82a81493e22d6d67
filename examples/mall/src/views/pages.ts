/** The shop's pages: product grid, product, cart, order, order history, and the frame around them. */
import type { Brand, Product } from "../brands.ts";
import type { Order, OrderState } from "../orders.ts";
import { orderState } from "../orders.ts";
import { html, type Html, won } from "./html.ts";

export interface Frame {
  brand: Brand;
  cartCount: number;
  title: string;
  /** Reload the page every few seconds (an order waiting for its webhook). */
  refreshSeconds?: number;
}

export function layout(frame: Frame, body: Html): string {
  const { brand } = frame;
  const c = brand.colors;
  return html`<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · ${brand.name}</title>
${frame.refreshSeconds ? html`<meta http-equiv="refresh" content="${frame.refreshSeconds}">` : ""}
<link rel="stylesheet" href="/style.css">
<style>:root{--brand:${c.primary};--brand-text:${c.primaryText};--accent:${c.accent};--page:${c.background}}</style>
</head>
<body>
<header class="top">
  <div class="wrap top-row">
    <a class="logo" href="/">${brand.name}</a>
    <nav aria-label="쇼핑">
      <a href="/orders">주문 내역</a>
      <a href="/cart" class="cart-link">장바구니${frame.cartCount > 0 ? html` <span class="badge" aria-label="${frame.cartCount}개">${frame.cartCount}</span>` : ""}</a>
    </nav>
  </div>
  <p class="tagline wrap">${brand.tagline}</p>
</header>
<main class="wrap">
${body}
</main>
<footer class="wrap foot">
  <p>${brand.name} · MPay 테스트 가맹점 (실제 결제되지 않습니다) · <a href="/orders">주문 내역</a></p>
</footer>
</body>
</html>`.value;
}

export function productGrid(brand: Brand): Html {
  return html`<h1 class="page-title">오늘의 상품</h1>
<ul class="grid">
${brand.products.map(
  (p) => html`<li class="card">
  <a href="/products/${p.sku}" class="card-link">
    <img src="/images/${p.sku}.svg" alt="" width="200" height="200">
    <span class="card-name">${p.name}</span>
    <span class="card-detail">${p.detail}</span>
    <strong class="price">${won(p.price)}</strong>
  </a>
  <form method="post" action="/cart/add">
    <input type="hidden" name="sku" value="${p.sku}">
    <input type="hidden" name="quantity" value="1">
    <button type="submit" class="btn btn-line" aria-label="${p.name} 장바구니 담기">담기</button>
  </form>
</li>`,
)}
</ul>`;
}

export function productPage(product: Product): Html {
  return html`<nav class="crumbs" aria-label="위치"><a href="/">홈</a> › ${product.name}</nav>
<article class="product">
  <img src="/images/${product.sku}.svg" alt="${product.name}" width="400" height="400" class="product-img">
  <div class="product-info">
    <h1>${product.name}</h1>
    <p class="card-detail">${product.detail}</p>
    <p class="price big">${won(product.price)}</p>
    <p>${product.description}</p>
    <p class="ship">무료배송 · 오늘 출발</p>
    <form method="post" action="/cart/add" class="buy">
      <input type="hidden" name="sku" value="${product.sku}">
      <label for="quantity">수량</label>
      <select id="quantity" name="quantity">${[1, 2, 3, 4, 5].map((n) => html`<option value="${n}">${n}</option>`)}</select>
      <button type="submit" class="btn">장바구니 담기</button>
    </form>
  </div>
</article>`;
}

export interface CartView {
  lines: { product: Product; quantity: number }[];
  total: number;
}

export function cartPage(cart: CartView, error?: string): Html {
  if (cart.lines.length === 0)
    return html`<h1 class="page-title">장바구니</h1>
<p class="empty">장바구니가 비어 있어요. <a href="/">상품 보러 가기</a></p>`;
  return html`<h1 class="page-title">장바구니</h1>
${error ? html`<p class="notice notice-error" role="alert">${error}</p>` : ""}
<ul class="lines">
${cart.lines.map(
  ({ product, quantity }) => html`<li class="line">
  <img src="/images/${product.sku}.svg" alt="" width="72" height="72">
  <div class="line-info">
    <a href="/products/${product.sku}">${product.name}</a>
    <span class="card-detail">${won(product.price)} × ${quantity}</span>
  </div>
  <form method="post" action="/cart/update" class="line-qty">
    <input type="hidden" name="sku" value="${product.sku}">
    <label class="sr-only" for="qty-${product.sku}">${product.name} 수량</label>
    <select id="qty-${product.sku}" name="quantity">${Array.from({ length: 10 }, (_, i) => i + 1).map(
      (n) => html`<option value="${n}"${n === quantity ? html` selected` : ""}>${n}</option>`,
    )}</select>
    <button type="submit" class="btn btn-small btn-line">변경</button>
    <button type="submit" name="quantity" value="0" class="btn btn-small btn-ghost" aria-label="${product.name} 삭제">삭제</button>
  </form>
  <strong class="line-total">${won(product.price * quantity)}</strong>
</li>`,
)}
</ul>
<section class="summary" aria-label="결제 금액">
  <p><span>상품 금액</span><span>${won(cart.total)}</span></p>
  <p><span>배송비</span><span>무료</span></p>
  <p class="summary-total"><span>총 결제 금액</span><strong>${won(cart.total)}</strong></p>
  <form method="post" action="/checkout">
    <button type="submit" class="btn btn-pay">MPay로 ${won(cart.total)} 결제하기</button>
  </form>
  <p class="fine">메신저 지갑에서 PIN으로 결제합니다.</p>
</section>`;
}

const STATE_LABEL: Record<OrderState, string> = {
  awaiting_payment: "결제 확인 중",
  paid: "결제 완료",
  partially_refunded: "부분 환불",
  refunded: "환불 완료",
  failed: "결제되지 않음",
};

const FAILED_REASON: Record<string, string> = {
  declined: "카드사에서 결제를 거절했어요.",
  canceled: "결제가 취소되었어요.",
  expired: "결제 시간이 지났어요.",
};

export function stateBadge(order: Order): Html {
  const state = orderState(order);
  return html`<span class="state state-${state}" data-state="${state}">${STATE_LABEL[state]}</span>`;
}

export function orderPage(order: Order, options: { returned: boolean; retry: boolean }): Html {
  const state = orderState(order);
  return html`<h1 class="page-title">주문 상세</h1>
<section class="order" aria-labelledby="order-status">
  <p class="order-head"><span>주문번호 <code>${order.id}</code></span> ${stateBadge(order)}</p>
  ${
    state === "awaiting_payment"
      ? html`<p class="notice" role="status" id="order-status">${
          options.returned
            ? "결제 확인을 기다리는 중이에요. MPay가 결제를 알려 오면 이 화면이 바뀝니다."
            : "아직 결제가 확인되지 않았어요. 결제를 마치면 MPay가 알려 옵니다."
        }</p>`
      : state === "failed"
        ? html`<p class="notice notice-error" role="status" id="order-status">${FAILED_REASON[order.paymentStatus ?? ""] ?? "결제되지 않았어요."}</p>`
        : html`<p class="notice notice-ok" role="status" id="order-status">${
            state === "paid"
              ? "결제가 완료되었어요. 곧 보내드릴게요!"
              : state === "refunded"
                ? `${won(order.amountRefunded)} 전액 환불되었어요.`
                : `${won(order.amountRefunded)} 환불되었어요.`
          }</p>`
  }
  <ul class="lines">
  ${order.items.map(
    (item) => html`<li class="line">
    <img src="/images/${item.sku}.svg" alt="" width="56" height="56">
    <div class="line-info"><span>${item.name}</span><span class="card-detail">${won(item.price)} × ${item.quantity}</span></div>
    <strong class="line-total">${won(item.price * item.quantity)}</strong>
  </li>`,
  )}
  </ul>
  <dl class="facts">
    <dt>결제 금액</dt><dd>${won(order.amount)}</dd>
    ${order.amountRefunded > 0 ? html`<dt>환불 금액</dt><dd class="refunded">−${won(order.amountRefunded)}</dd>` : ""}
    <dt>주문일시</dt><dd>${formatDate(order.createdAt)}</dd>
    ${order.paidAt ? html`<dt>결제일시</dt><dd>${formatDate(order.paidAt)}</dd>` : ""}
    <dt>결제수단</dt><dd>MPay${order.paymentId ? html` <code class="pid">${order.paymentId}</code>` : ""}</dd>
  </dl>
  ${
    options.retry && state === "awaiting_payment"
      ? html`<form method="post" action="/orders/${order.id}/pay"><button type="submit" class="btn btn-pay">MPay로 결제 계속하기</button></form>`
      : ""
  }
  <p><a href="/orders">주문 내역</a> · <a href="/">쇼핑 계속하기</a></p>
</section>`;
}

export function ordersPage(orders: Order[]): Html {
  if (orders.length === 0)
    return html`<h1 class="page-title">주문 내역</h1><p class="empty">아직 주문이 없어요. <a href="/">상품 보러 가기</a></p>`;
  return html`<h1 class="page-title">주문 내역</h1>
<ul class="orders">
${orders.map(
  (order) => html`<li><a href="/orders/${order.id}" class="order-row">
  <span class="order-when">${formatDate(order.createdAt)}</span>
  <span class="order-what">${order.itemName}</span>
  <strong>${won(order.amount)}</strong>
  ${stateBadge(order)}
</a></li>`,
)}
</ul>`;
}

export function messagePage(title: string, message: string): Html {
  return html`<h1 class="page-title">${title}</h1><p class="notice notice-error" role="alert">${message}</p><p><a href="/">홈으로</a></p>`;
}

/** 2026.12.04 14:05 in Korea's time, as Korean shops write order times. */
function formatDate(date: Date): string {
  const kst = new Date(date.getTime() + 9 * 3600_000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${kst.getUTCFullYear()}.${two(kst.getUTCMonth() + 1)}.${two(kst.getUTCDate())} ${two(kst.getUTCHours())}:${two(kst.getUTCMinutes())}`;
}
