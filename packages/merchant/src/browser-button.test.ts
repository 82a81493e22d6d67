/**
 * The "Pay with MPay" button in a real browser (Debian chromium): a shop page on its own origin loads the script
 * from the pay server with its SRI value, its server creates the payment through this SDK, and the button redirects,
 * or opens a popup that closes by itself when the payment is done (the status read with the publishable key, CORS
 * for the shop's origin). A wrong integrity value keeps the script out. Screenshots at 360 and 1280 px.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { merchantTestPay, type MerchantTestPay, type TestMerchant } from "@mpay/testing/merchant-pay";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DESKTOP, expectNoSeriousAxe, launchBrowser, newParty, PHONE, shot } from "../../../e2e/support/browser.ts";
import { MPay } from "./client.ts";

let t: MerchantTestPay;
let shop: Server;
let shopOrigin: string;
let merchant: TestMerchant;
let integrity: string;
let browser: Browser;
const created: string[] = [];

function page(mode: string, sri: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Button Shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui;margin:24px"><main><h1>Linen shirt</h1><p>35,000 KRW</p><div id="pay"></div>
<p id="result" role="status"></p></main>
<script src="${t.baseUrl}/v1/js/mpay.js" integrity="${sri}" crossorigin="anonymous"></script>
<script>
  window.MPay && MPay.button(document.getElementById("pay"), {
    publishableKey: ${JSON.stringify(merchant.publishableKey)},
    mode: ${JSON.stringify(mode)},
    createPayment: () => fetch("/checkout", { method: "POST" }).then((r) => r.json()),
    onComplete: (r) => { document.getElementById("result").textContent = "done: " + r.status; },
  });
</script></body></html>`;
}

beforeAll(async () => {
  t = await merchantTestPay();
  shop = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "POST" && url.pathname === "/checkout") {
      // The shop's server: the secret key stays here.
      const mpay = new MPay({ secretKey: merchant.secretKey, baseUrl: t.baseUrl });
      const payment = await mpay.payments.create({
        amount: 35000,
        currency: "KRW",
        orderId: `button-${created.length + 1}`,
        itemName: "Linen shirt",
        returnUrl: `${shopOrigin}/done`,
        cancelUrl: `${shopOrigin}/`,
      });
      created.push(payment.id);
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ checkoutUrl: payment.checkoutUrl }));
      return;
    }
    const sri = url.searchParams.get("sri") ?? integrity;
    res.writeHead(200, { "content-type": "text/html" }).end(page(url.searchParams.get("mode") ?? "redirect", sri));
  });
  await new Promise<void>((resolve) => shop.listen(0, "127.0.0.1", resolve));
  shopOrigin = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
  merchant = await t.createMerchant("Button Shop", [shopOrigin]);
  integrity = await (await fetch(`${t.baseUrl}/v1/js/mpay.js.sri`)).text();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => shop.close(() => resolve()));
  await t.close();
});

/** The hosted checkout (apps/web) is not running here: its pages answer a stub that names the URL. */
async function stubCheckout(p: Page): Promise<void> {
  const checkout = new URL(t.pay.config.checkoutBaseUrl).origin;
  await p.context().route(`${checkout}/**`, (route) =>
    route.fulfill({
      contentType: "text/html",
      body: `<title>MPay checkout</title><h1>checkout ${route.request().url()}</h1>`,
    }),
  );
}

describe("the Pay with MPay button", () => {
  it("loads with its integrity value and redirects to the hosted checkout", async () => {
    for (const screen of [PHONE, DESKTOP]) {
      const context = await newParty(browser, { screen });
      const p = await context.newPage();
      await stubCheckout(p);
      await p.goto(`${shopOrigin}/?mode=redirect`);
      const button = p.getByRole("button", { name: "Pay with MPay" });
      await expect.poll(() => button.isVisible()).toBe(true);
      await shot(p, `button-${screen.width}`);
      await expectNoSeriousAxe(p);
      await button.click();
      await p.waitForURL((url) => url.href.includes(created.at(-1) ?? "none"));
      expect(p.url()).toContain(new URL(t.pay.config.checkoutBaseUrl).origin);
      await context.close();
    }
  });

  it("opens the checkout in a popup that closes itself once the payment is done", async () => {
    const context = await newParty(browser, { screen: DESKTOP });
    const p = await context.newPage();
    await stubCheckout(p);
    await p.goto(`${shopOrigin}/?mode=popup`);
    const [popup] = await Promise.all([
      p.waitForEvent("popup"),
      p.getByRole("button", { name: "Pay with MPay" }).click(),
    ]);
    await popup.waitForURL((url) => url.href.includes(created.at(-1) ?? "none"));
    await shot(popup, "popup-checkout");
    await t.authorize(created.at(-1) ?? "");
    await expect
      .poll(() => p.locator("#result").textContent(), { timeout: 15_000 })
      .toMatch(/^done: (authorized|captured)$/);
    expect(popup.isClosed()).toBe(true);
    await context.close();
  });

  it("qr: a popup on a desktop, a redirect on a phone", async () => {
    const phone = await newParty(browser, { screen: PHONE });
    const p = await phone.newPage();
    await stubCheckout(p);
    await p.goto(`${shopOrigin}/?mode=qr`);
    await p.getByRole("button", { name: "Pay with MPay" }).click();
    await p.waitForURL((url) => url.href.includes(created.at(-1) ?? "none"));
    await phone.close();

    const desktop = await newParty(browser, { screen: DESKTOP });
    const d = await desktop.newPage();
    await stubCheckout(d);
    await d.goto(`${shopOrigin}/?mode=qr`);
    const [popup] = await Promise.all([
      d.waitForEvent("popup"),
      d.getByRole("button", { name: "Pay with MPay" }).click(),
    ]);
    await popup.waitForURL((url) => url.href.includes(created.at(-1) ?? "none"));
    await desktop.close();
  });

  it("does not run when the integrity value does not match", async () => {
    const context = await newParty(browser, { screen: DESKTOP });
    const p = await context.newPage();
    const wrong = `sha384-${Buffer.alloc(48).toString("base64")}`;
    await p.goto(`${shopOrigin}/?sri=${encodeURIComponent(wrong)}`);
    await p.waitForLoadState("load");
    expect(await p.evaluate(() => typeof (window as unknown as { MPay?: unknown }).MPay)).toBe("undefined");
    expect(await p.getByRole("button", { name: "Pay with MPay" }).count()).toBe(0);
    await context.close();
  });
});
