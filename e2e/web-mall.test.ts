/**
 * A purchase from a shop to paid, in a real browser (Debian's Chromium), against `npm start` itself: the pay server,
 * issuer host, messenger, web app and the two demo shops of examples/mall (Demo Mall, Hanok Tea House) on free
 * ports. Two parties:
 * - a payer on a phone (360 px) signs in to the MPay wallet with the messenger, sets a PIN and adds a test card
 *   (the issuer's one-time code), as e2e/web-wallet.test.ts does;
 * - a shopper at a desktop (1280 px) adds two products in Demo Mall, checks out, is sent to MPay's hosted checkout
 *   and pushes the payment to the payer's number; the payer pays in the messenger's MPay chat with the PIN.
 * The shop's order is not paid by the browser coming back (its return URL opened before the payment shows "waiting
 * for confirmation", whatever the query says) but once its webhook arrived (the delivery to the shop's endpoint is
 * `succeeded` at MPay). Then the Demo Mall's dashboard owner (a third party, at a desktop) signs in to the merchant
 * dashboard with the password and TOTP code from the demo users' file (support/demo-users.ts), finds the payment by
 * the shop's order id and refunds part of it in the refund dialog; the refund shows in the payment's timeline (its
 * entries loaded before the shot), in the shop's order page
 * (after its webhook) and in the payer's wallet history. Screenshots (360 and 1280 px: product grid, cart, order
 * paid, the dashboard's payment, refunded; 1280 px: the dashboard's sign-in, search, refund dialog, timeline) under
 * test-artifacts/web-mall/, each screen checked by axe.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MPay } from "@mpay/merchant";
import { signInWithTotp } from "./support/dashboard-pages.ts";
import { readDemoUsers } from "./support/demo-users.ts";
import { DESKTOP, expectNoSeriousAxe, launchBrowser, newParty, PHONE } from "./support/browser.ts";
import { startTestSystem, type TestSystem } from "./support/npm-start.ts";
import { enterPin, newPayer, onboardPayer, pushToPayer, requestInMPayChat } from "./support/wallet-pages.ts";

const PIN = "305917";
const CARD = { pan: "4222000000000012", expiry: "12/31", cvc: "742", phone: "+821055520001", issuerId: "kstar" };

let mpay: TestSystem | undefined;
let browser: Browser | undefined;
let urls: TestSystem["urls"] & { mall: string; teaHouse: string };
const ARTIFACTS = resolve("test-artifacts/web-mall");

/** The page at 360 px and at 1280 px wide: a full-page screenshot of each (<name>-360.png, <name>-1280.png) and axe. */
async function shot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  const size = page.viewportSize() ?? DESKTOP;
  for (const screen of [PHONE, DESKTOP]) {
    await page.setViewportSize(screen);
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${screen.width}.png`), fullPage: true });
    await expectNoSeriousAxe(page);
  }
  await page.setViewportSize(size);
}

/** The page as it is (the dashboard, at a desktop): a screenshot <name>-1280.png and axe. */
async function dashboardShot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({
    path: join(ARTIFACTS, `${name}-${page.viewportSize()?.width ?? DESKTOP.width}.png`),
    fullPage: true,
  });
  await expectNoSeriousAxe(page);
}

beforeAll(async () => {
  [mpay, browser] = await Promise.all([
    startTestSystem("web-mall", {
      demoShops: true,
      // The outbox's worker sends the refund's message to the messenger within 2 s, not 30.
      env: () => ({ ISSUER_IDS: CARD.issuerId, MPAY_EXPIRY_INTERVAL_MS: "2000" }),
    }),
    launchBrowser(),
  ]);
  urls = { ...mpay.urls, ...mpay.shops! };
}, 480_000);

afterAll(async () => {
  await browser?.close();
  await mpay?.stop();
});

/** The shop's own record of the order (its database), as its status route answers it. */
async function shopOrder(
  orderId: string,
): Promise<{ state: string; paymentStatus: string | null; amountRefunded: number }> {
  const answer = await fetch(`${urls.mall}/orders/${orderId}/status`);
  expect(answer.status).toBe(200);
  return (await answer.json()) as { state: string; paymentStatus: string | null; amountRefunded: number };
}

describe("a purchase in the demo mall, paid in the messenger wallet [pglite]", () => {
  it("npm start runs both shops as two merchants and lists them", { timeout: 300_000 }, async () => {
    // In the Try-it block, or in a block of their own just after it when they were still starting (a loaded machine).
    await expect
      .poll(() => mpay!.system.output(), { timeout: 280_000, interval: 1000 })
      .toMatch(/Shops that take MPay[^\n]*\n(  .*\n){2}/);
    const output = mpay!.system.output();
    expect(output).toContain(`Demo Mall        ${urls.mall}`);
    expect(output).toContain(`Hanok Tea House  ${urls.teaHouse}`);
    // Two shops, two merchants: the tea house's grid is its own, its keys its own file.
    const party = await newParty(browser!, { screen: DESKTOP });
    const tea = await party.newPage();
    await tea.goto(`${urls.teaHouse}/`);
    await expect(tea.locator(".logo").innerText()).resolves.toBe("Hanok Tea House");
    await expect(tea.locator(".grid").innerText()).resolves.toContain("하동 우전 녹차 50g");
    await shot(tea, "00-tea-house-grid");
    await party.close();
    const keys = await Promise.all(
      ["demo-merchant.json", "demo-merchant-tea-house.json"].map(
        async (file) =>
          JSON.parse(await readFile(join(mpay!.dir, "pay", file), "utf8")) as { id: string; secretKey: string },
      ),
    );
    expect(keys[0]!.id).not.toBe(keys[1]!.id);
    // Neither key is printed.
    for (const { secretKey } of keys) expect(output).not.toContain(secretKey);
  });

  it("adds two items, checks out, pays in the wallet; paid only after the webhook, then partly refunded", {
    timeout: 900_000,
  }, async () => {
    const merchantKeys = JSON.parse(await readFile(join(mpay!.dir, "pay", "demo-merchant.json"), "utf8")) as {
      secretKey: string;
    };
    const api = new MPay({ secretKey: merchantKeys.secretKey, baseUrl: urls.pay });
    const payer = await newPayer(urls.messenger, "Park Seoyeon");
    const pageErrors: string[] = [];

    // 1. The payer's phone, ready to pay: wallet signed in with the messenger, device bound, PIN set, a test card
    // added (the issuer's one-time code).
    const phoneContext = await newParty(browser!, { screen: PHONE });
    const phone = await phoneContext.newPage();
    phone.on("pageerror", (error) => pageErrors.push(`phone: ${error.message}`));
    await onboardPayer(phone, urls, payer, PIN, CARD);

    // 2. The shopper at a desktop: the grid, two products into the cart (one from the grid, one from its page).
    const desktop = await newParty(browser!, { screen: DESKTOP });
    const shop = await desktop.newPage();
    shop.on("pageerror", (error) => pageErrors.push(`shop: ${error.message}`));
    await shop.goto(`${urls.mall}/`);
    await shop.getByRole("heading", { name: "오늘의 상품" }).waitFor();
    await expect(shop.locator(".grid .card").count()).resolves.toBe(8);
    await expect(shop.locator(".grid .card", { hasText: "제주 감귤 5kg" }).innerText()).resolves.toContain("35,000원");
    await shot(shop, "01-product-grid");
    await shop.getByRole("button", { name: "제주 감귤 5kg 장바구니 담기" }).click();
    await shop.waitForURL(`${urls.mall}/cart`);
    await shop.goto(`${urls.mall}/`);
    await shop.getByRole("link", { name: /도자기 머그컵/ }).click();
    await shop.getByRole("heading", { name: "도자기 머그컵" }).waitFor();
    await shot(shop, "02-product");
    await shop.getByRole("button", { name: "장바구니 담기" }).click();
    await shop.waitForURL(`${urls.mall}/cart`);
    await expect(shop.locator(".summary-total").innerText()).resolves.toMatch(/53,000원/);
    await shot(shop, "03-cart");

    // 3. Checkout: the shop creates the payment through the SDK and sends the browser to MPay's hosted checkout.
    await shop.getByRole("button", { name: "MPay로 53,000원 결제하기" }).click();
    await shop.waitForURL((url) => url.href.startsWith(`${urls.web}/checkout/pay_`), { timeout: 60_000 });
    const paymentId = new URL(shop.url()).pathname.split("/").pop()!;
    const payment = await api.payments.retrieve(paymentId);
    expect(payment).toMatchObject({ amount: 53_000, currency: "KRW", itemName: "제주 감귤 5kg 외 1건" });
    const orderId = payment.orderId;

    // 4. The return alone pays nothing: the shop's return URL opened now, even saying "authorized", waits.
    const forged = await desktop.newPage();
    await forged.goto(`${urls.mall}/orders/${orderId}/return?status=authorized`);
    await forged.getByText("결제 확인 중").first().waitFor();
    await forged.close();
    expect(await shopOrder(orderId)).toMatchObject({ state: "awaiting_payment", paymentStatus: null });

    // 5. The shopper sends the payment to the payer's number; the payer pays in the messenger's MPay chat.
    const pairingCode = await pushToPayer(shop, payer.phoneNumber);
    const request = await requestInMPayChat(phone, urls.web, payer, pairingCode);
    await expect(request.innerText()).resolves.toMatch(/Demo Mall[^\n]*53,000/);
    await request.getByRole("button", { name: "Pay" }).click();
    await phone.waitForURL(`${urls.web}/wallet/pay/${paymentId}`, { timeout: 60_000 });
    await phone.getByRole("button", { name: "Pay ₩53,000" }).click();
    await enterPin(phone, PIN, "click");
    await phone.getByText("Payment complete").waitFor({ timeout: 180_000 });

    // 6. The desktop returns to the shop's order page, which shows paid once the shop's webhook arrived.
    await shop.waitForURL((url) => url.href.startsWith(`${urls.mall}/orders/${orderId}/return`), { timeout: 60_000 });
    await shop.locator(".order .state-paid").waitFor({ timeout: 60_000 });
    expect(await shopOrder(orderId)).toMatchObject({ state: "paid" });
    // Paid by the webhook: MPay delivered this payment's event to the shop's endpoint and the shop said 2xx.
    const endpoints = await api.webhookEndpoints.list();
    const endpoint = endpoints.data.find((e) => e.url === `${urls.mall}/webhooks/mpay`);
    expect(endpoint).toBeDefined();
    const deliveries = await api.webhookEndpoints.deliveries(endpoint!.id, { status: "succeeded" });
    const events = await Promise.all(deliveries.data.map((d) => api.events.retrieve(d.eventId)));
    expect(
      events.some(
        (e) => (e.type === "payment.authorized" || e.type === "payment.captured") && e.data.payment.id === paymentId,
      ),
    ).toBe(true);
    await shot(shop, "04-order-paid");
    await shop.goto(`${urls.mall}/orders`);
    await expect(shop.locator(".orders").innerText()).resolves.toContain("제주 감귤 5kg 외 1건");
    await shot(shop, "05-order-history");

    // 7. A partial refund, the mug, in the merchant dashboard: the Demo Mall's owner (made by the pay server's first
    // start, its password and TOTP seed in the demo users' file) signs in in a browser of its own, at a desktop.
    // On the test's IP-address URL the passkey button is off (WebAuthn takes no IP as its relying party): password
    // and the authenticator's code, computed here as an app would; the owner's authenticator is set up already, so
    // the page asks for the code and shows no new key.
    const { dashboard: owner } = await readDemoUsers(join(mpay!.dir, "pay"));
    expect(owner.email).toBe("owner@demo-mall.test");
    const merchantContext = await newParty(browser!, { screen: DESKTOP });
    const merchant = await merchantContext.newPage();
    merchant.on("pageerror", (error) => pageErrors.push(`dashboard: ${error.message}`));
    await signInWithTotp(merchant, `${urls.web}/dashboard`, owner, {
      onScreen: async (screen) => {
        if (screen === "password") await dashboardShot(merchant, "06-dashboard-sign-in");
      },
    });
    await merchant.getByRole("navigation").first().waitFor({ timeout: 60_000 });
    await merchant.getByRole("heading", { level: 1, name: "Payments" }).waitFor();
    // The mall's order id finds its payment.
    await merchant.getByLabel("Search").fill(orderId);
    await merchant.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => merchant.locator("tbody tr").count(), { timeout: 30_000 }).toBe(1);
    await expect(merchant.locator("tbody tr").innerText()).resolves.toMatch(/₩53,000/);
    await dashboardShot(merchant, "07-dashboard-payments");
    await merchant.getByRole("link", { name: /₩53,000/ }).click();
    await merchant.getByRole("heading", { level: 2, name: "Timeline" }).waitFor();
    expect(new URL(merchant.url()).pathname).toBe(`/dashboard/payments/${paymentId}`);
    await expect.poll(() => merchant.getByText(orderId).count()).toBeGreaterThanOrEqual(1);
    // The timeline's entries, not its "Loading…", before the shot.
    const timeline = merchant.getByRole("region", { name: "Timeline" });
    await expect.poll(() => timeline.getByRole("listitem").count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(() => merchant.getByText("Loading…").count()).toBe(0);
    await shot(merchant, "08-dashboard-payment");
    await merchant.getByRole("button", { name: "Refund" }).click();
    const dialog = merchant.getByRole("dialog", { name: "Refund this payment?" });
    await dialog.waitFor();
    await expect(dialog.innerText()).resolves.toContain("Up to ₩53,000 can still be refunded.");
    await dialog.getByLabel("Amount to refund (KRW)").fill("18,000");
    await expect.poll(() => dialog.getByText("₩18,000 will be refunded.").count()).toBe(1);
    await dashboardShot(merchant, "09-dashboard-refund-dialog");
    await dialog.getByRole("button", { name: "Refund" }).click();
    await expect
      .poll(() => merchant.getByRole("status").filter({ hasText: "Refunded ₩18,000." }).count(), { timeout: 60_000 })
      .toBe(1);
    await expect
      .poll(() => merchant.locator(".dash-timeline-title", { hasText: "Refunded ₩18,000" }).count(), {
        timeout: 60_000,
      })
      .toBe(1);
    await dashboardShot(merchant, "10-dashboard-refunded");
    // The API agrees: 18,000 refunded, 35,000 left.
    await expect(api.payments.retrieve(paymentId)).resolves.toMatchObject({
      amountRefunded: 18_000,
      amountRefundable: 35_000,
    });

    // The shop learns it from the refund's webhook: its order page shows the refunded amount.
    await expect
      .poll(async () => (await shopOrder(orderId)).state, { timeout: 60_000, interval: 500 })
      .toBe("partially_refunded");
    await shop.goto(`${urls.mall}/orders/${orderId}`);
    await shop.getByText("18,000원 환불되었어요").waitFor();
    await expect(shop.locator(".order .refunded").innerText()).resolves.toContain("18,000원");
    await shot(shop, "11-order-refunded");

    // 8. The payer's wallet history shows the payment and its refund.
    await phone.goto(`${urls.web}/wallet/history`);
    const receipt = phone.locator(".receipt", { hasText: "Demo Mall" }).first();
    await receipt.waitFor({ timeout: 60_000 });
    await expect(receipt.innerText()).resolves.toMatch(/Demo Mall[\s\S]*₩53,000/);
    await expect(receipt.locator(".refunds").innerText()).resolves.toMatch(/Refunded[\s\S]*₩18,000/);
    await shot(phone, "12-wallet-history-refund");

    expect(pageErrors).toEqual([]);
    await merchantContext.close();
    await desktop.close();
    await phoneContext.close();
  });
});
