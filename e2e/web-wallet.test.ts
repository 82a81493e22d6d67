/**
 * The web wallet in a real browser (Chromium through playwright-core, 360 px wide), against the processes `npm start`
 * runs (pay server, issuer host, messenger, web app): a messenger account signs in to the wallet (PKCE, the
 * messenger's login page, the code exchanged on /wallet/signin), the device binds (a non-extractable WebCrypto key
 * in IndexedDB), the PIN is set on the shuffled pad, a test card is added with the issuer's one-time code, and a
 * merchant payment is approved on /wallet/pay/<id> with the PIN: the pay server shows it authorized (the demo
 * merchant captures automatically, so `captured`). Then two parties on two screens: a shopper's desktop checkout
 * pushes a payment to this payer's number, the request arrives in the messenger app's MPay chat, its Pay button
 * opens the pay sheet and the PIN approves it; the desktop returns to the shop, the merchant sees `authorized` and
 * the issuer's back office holds the amount. A last payment: five wrong PINs lock the PIN and the screen says what
 * to do next. axe finds no serious or critical problem on any screen, at 360 px and 1280 px. Screenshots
 * are kept under test-artifacts/web-wallet/, as every browser test keeps its own.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cardListSchema } from "@mpay/protocol";
import { backofficeCard } from "../scripts/demo/issuer.ts";
import { MerchantApi } from "../scripts/demo/merchant.ts";
import { DESKTOP, launchBrowser } from "./support/browser.ts";
import { startTestSystem, type TestSystem } from "./support/npm-start.ts";
import {
  confirmCardWithCode,
  enterPin,
  fillCardForm,
  newPayer,
  padLayout,
  pushToPayer,
  requestInMPayChat,
  screens,
  signInAtMessenger,
} from "./support/wallet-pages.ts";

const PIN = "204816";
const CARD = { pan: "4222000000000012", expiry: "12/31", cvc: "742", phone: "+821055520001", issuerId: "kstar" };
const SHOP = "http://127.0.0.1:4400";

let mpay: TestSystem | undefined;
let browser: Browser | undefined;
let urls: TestSystem["urls"];
const shot = screens(resolve("test-artifacts/web-wallet"));

beforeAll(async () => {
  [mpay, browser] = await Promise.all([
    startTestSystem("web-wallet", {
      // The outbox's worker sends a refund's message (written in the merchant's transaction) within 2 s, not 30.
      env: () => ({ ISSUER_IDS: CARD.issuerId, MPAY_EXPIRY_INTERVAL_MS: "2000" }),
    }),
    launchBrowser(),
  ]);
  urls = mpay.urls;
}, 480_000);

afterAll(async () => {
  await browser?.close();
  await mpay?.stop();
});

describe("the web wallet in Chromium at 360 px [pglite]", () => {
  it("signs in with the messenger, binds the device, sets the PIN, adds a card, pays with the PIN, and locks after five wrong PINs", {
    timeout: 900_000,
  }, async () => {
    const payer = await newPayer(urls.messenger, "Jisoo Kim");
    const merchantKeys = JSON.parse(await readFile(join(mpay!.dir, "pay", "demo-merchant.json"), "utf8")) as {
      secretKey: string;
    };
    const merchant = new MerchantApi(urls.pay, merchantKeys.secretKey);
    const newPayment = (captureMethod: "automatic" | "manual" = "automatic") =>
      merchant.createPayment({
        amount: 35_000,
        currency: "KRW",
        orderId: `order-${crypto.randomUUID()}`,
        itemName: "Jeju tangerines 5 kg",
        returnUrl: `${SHOP}/done`,
        cancelUrl: `${SHOP}/cancel`,
        captureMethod,
      });
    const context = await browser!.newContext({ viewport: { width: 360, height: 740 }, locale: "en-US" });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));

    // 1. A payment link opened before sign-in: the wallet signs in first and then continues to it.
    const first = await newPayment();
    await page.goto(`${urls.web}/wallet/pay/${first.id}`);
    await page.getByRole("button", { name: "Continue with messenger" }).waitFor({ timeout: 60_000 });
    await shot(page, "01-sign-in");
    await page.getByRole("button", { name: "Continue with messenger" }).click();
    await signInAtMessenger(page, urls, payer);

    // 2. Back in the wallet: the code left the address bar; the device binds and asks for a PIN.
    await page.getByRole("heading", { name: "Choose a 6-digit PIN" }).waitFor({ timeout: 120_000 });
    expect(page.url()).not.toContain("code=");
    const stored = await page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        const request = indexedDB.open("mpay-wallet");
        request.onsuccess = () => ok(request.result);
        request.onerror = () => fail(request.error);
      });
      const record = await new Promise<{ keyPair?: CryptoKeyPair } | undefined>((ok, fail) => {
        const request = db.transaction("records").objectStore("records").get("device-key");
        request.onsuccess = () => ok(request.result as { keyPair?: CryptoKeyPair } | undefined);
        request.onerror = () => fail(request.error);
      });
      const session = sessionStorage.getItem("mpay.wallet.session") ?? "";
      return {
        algorithm: record?.keyPair?.privateKey.algorithm.name,
        extractable: record?.keyPair?.privateKey.extractable,
        sessionKept: /"pst_/.test(session),
        pageShowsToken: document.body.innerHTML.includes("pst_"),
      };
    });
    expect(stored).toEqual({ algorithm: "ECDSA", extractable: false, sessionKept: true, pageShowsToken: false });
    await shot(page, "02-set-pin");

    // 3. The PIN twice, on pads shuffled anew: clicked on the first, typed on the keyboard on the second.
    const firstLayout = await padLayout(page);
    expect([...firstLayout].sort().join("")).toBe("0123456789");
    await enterPin(page, PIN, "click");
    await page.getByRole("heading", { name: "Enter the PIN again" }).waitFor();
    expect(await padLayout(page)).not.toEqual(firstLayout);
    await enterPin(page, PIN, "keyboard");

    // 4. Sign-in continued where the payer was going: the pay sheet, with no card yet.
    await page.getByText("No card on this device can pay yet.").waitFor({ timeout: 120_000 });
    await page.getByRole("link", { name: "Add a card" }).click();
    await fillCardForm(page, CARD, "JISOO KIM");
    await shot(page, "03-add-card");
    await confirmCardWithCode(page, urls.issuer, CARD, () => shot(page, "04-card-code"));

    // 5. Back on the payment's pay sheet: merchant, item, amount, pairing code, the new card; approved with the PIN.
    await page.waitForURL(`${urls.web}/wallet/pay/${first.id}`, { timeout: 120_000 });
    const payButton = page.getByRole("button", { name: "Pay ₩35,000" });
    await payButton.waitFor({ timeout: 60_000 });
    await expect(page.locator(".summary").innerText()).resolves.toMatch(/Demo Mall\s+Jeju tangerines 5 kg\s+₩35,000/);
    await expect(page.locator(".pairing-code").innerText()).resolves.toMatch(/^[A-Z0-9]{4}$/);
    await shot(page, "06-pay-sheet");
    await payButton.click();
    await page.getByRole("heading", { name: "Enter your payment PIN" }).waitFor();
    await shot(page, "07-pay-pin");
    await enterPin(page, PIN, "keyboard");
    await page.getByText("Payment complete").waitFor({ timeout: 180_000 });
    await shot(page, "08-paid");
    expect(["authorized", "captured"]).toContain((await merchant.payment(first.id)).status);

    // 6. The receipt in History.
    await page.goto(`${urls.web}/wallet/history`);
    await page.locator(".receipt").first().waitFor({ timeout: 60_000 });
    await expect(page.locator(".receipt").first().innerText()).resolves.toMatch(/Demo Mall[\s\S]*₩35,000[\s\S]*0012/);
    await shot(page, "09-history");

    // 6b. Two parties, two screens: a shopper at a desktop opens the hosted checkout and pushes the payment to this
    // payer's number; on the phone, MPay's request arrives in the messenger app's MPay chat with the same pairing
    // code; its Pay button opens the wallet's pay sheet; the PIN approves it. The desktop follows live and goes back
    // to the shop; the merchant sees it authorized; the card's issuer holds the amount in its own books.
    const pushed = await newPayment("manual");
    const desktop = await browser!.newContext({ viewport: DESKTOP, locale: "en-US" });
    await desktop.route(`${SHOP}/**`, (route) =>
      route.fulfill({
        status: 200,
        contentType: "text/html; charset=utf-8",
        body: "<!doctype html><title>Shop</title>",
      }),
    );
    const shopper = await desktop.newPage();
    shopper.on("pageerror", (error) => pageErrors.push(`desktop: ${error.message}`));
    await shopper.goto(`${urls.web}/checkout/${pushed.id}`);
    const pairingCode = await pushToPayer(shopper, payer.phoneNumber);
    expect(pairingCode).toMatch(/^[A-Z0-9]{4}$/);

    const request = await requestInMPayChat(page, urls.web, payer, pairingCode);
    await expect(request.innerText()).resolves.toMatch(/Demo Mall[^\n]*35,000[^\n]*Jeju tangerines 5 kg/);
    await shot(page, "09b-mpay-chat-request");
    await request.getByRole("button", { name: "Pay" }).click();
    await page.waitForURL(`${urls.web}/wallet/pay/${pushed.id}`, { timeout: 60_000 });
    await expect(page.locator(".pairing-code").innerText({ timeout: 60_000 })).resolves.toBe(pairingCode);
    await page.getByRole("button", { name: "Pay ₩35,000" }).click();
    await enterPin(page, PIN, "click");
    await page.getByText("Payment complete").waitFor({ timeout: 180_000 });

    await shopper.getByRole("heading", { name: "Payment complete" }).waitFor({ timeout: 30_000 });
    await shot(shopper, "09c-desktop-paid", { axe: false });
    await shopper.waitForURL(`${SHOP}/**`, { timeout: 30_000 });
    expect(new URL(shopper.url()).searchParams.get("status")).toBe("authorized");
    await desktop.close();
    expect((await merchant.payment(pushed.id)).status).toBe("authorized");
    const walletSession = JSON.parse(
      await page.evaluate(() => sessionStorage.getItem("mpay.wallet.session") ?? "{}"),
    ) as { sessionToken: string };
    const cardsAnswer = await fetch(`${urls.pay}/v1/payer/cards`, {
      headers: { authorization: `Bearer ${walletSession.sessionToken}` },
    });
    const card = cardListSchema.parse(await cardsAnswer.json()).data.find((c) => c.last4 === CARD.pan.slice(-4));
    const { token: operatorToken } = JSON.parse(await readFile(join(mpay!.dir, "issuer", "operator.json"), "utf8")) as {
      token: string;
    };
    const books = await backofficeCard(urls.issuer, CARD.issuerId, card!.cardRef, operatorToken);
    expect(books.holds.filter((hold) => hold.paymentId === pushed.id).map((hold) => hold.amount)).toEqual([35_000]);

    // 6c. The result in the chat: MPay's receipt arrives in the MPay chat, and later the merchant's refund, live.
    await page.goto(`${urls.web}/chats/mpay`);
    // Two receipts: the first payment's (step 5) and this one's, newest last.
    const receipts = page.getByRole("log").locator("li", { hasText: "Paid ₩35,000 to Demo Mall" });
    await expect.poll(() => receipts.count(), { timeout: 60_000 }).toBe(2);
    const receipt = receipts.last();
    await expect(receipt.innerText()).resolves.toContain("with your card ending in 0012 (Visa)");
    await merchant.capture(pushed.id);
    await merchant.refund(pushed.id, 5_000, "one box arrived damaged");
    const refunded = page.getByRole("log").locator("li", { hasText: "Demo Mall refunded ₩5,000" });
    await refunded.waitFor({ timeout: 60_000 });
    await shot(page, "09d-mpay-chat-receipt-refund");
    await refunded.getByRole("button", { name: "Receipt" }).click();
    await page.waitForURL(`${urls.web}/wallet/history`, { timeout: 60_000 });

    // 7. A second payment: five wrong PINs, each telling the tries left; then locked, with what to do next.
    const second = await newPayment();
    await page.goto(`${urls.web}/wallet/pay/${second.id}`);
    await page.getByRole("button", { name: "Pay ₩35,000" }).click();
    for (let attempt = 1; attempt <= 5; attempt++) {
      await enterPin(page, "918273", attempt % 2 === 0 ? "keyboard" : "click");
      if (attempt === 5) break;
      const left = 5 - attempt;
      await page
        .getByRole("alert")
        .filter({ hasText: `Wrong PIN. ${left} ${left === 1 ? "try" : "tries"} left before it locks.` })
        .waitFor({ timeout: 120_000 });
      if (attempt === 1) await shot(page, "10-wrong-pin");
    }
    await page.getByRole("heading", { name: "Your PIN is locked" }).waitFor({ timeout: 120_000 });
    await expect(page.getByRole("alert").filter({ hasText: "5 wrong tries" }).count()).resolves.toBe(1);
    await expect(page.getByRole("link", { name: "Reset PIN with my card" }).count()).resolves.toBe(1);
    await shot(page, "11-locked");
    expect((await merchant.payment(second.id)).status).toBe("requires_approval");

    // 8. The other screens render and pass axe: cards, devices (this one marked), pending changes, settings, home.
    await page.goto(`${urls.web}/wallet/cards`);
    await page.getByText("Ready to pay on this device").waitFor({ timeout: 60_000 });
    await shot(page, "05-cards");
    await page.goto(`${urls.web}/wallet/devices`);
    await page.getByText("This device").waitFor({ timeout: 60_000 });
    await shot(page, "12-devices");
    await page.goto(`${urls.web}/wallet/pending`);
    await page.getByText("Nothing is waiting.").waitFor({ timeout: 60_000 });
    await shot(page, "13-pending");
    await page.goto(`${urls.web}/wallet/settings`);
    await page.getByRole("link", { name: "Change PIN" }).waitFor();
    await shot(page, "14-settings");
    await page.goto(`${urls.web}/wallet`);
    await page.getByText("Hello, Jisoo Kim").waitFor({ timeout: 60_000 });
    await shot(page, "15-home");

    expect(pageErrors).toEqual([]);
    await context.close();

    // 9. Korean, for a browser that asks for it first: the sign-in screen of a fresh tab.
    const korean = await browser!.newContext({ viewport: { width: 360, height: 740 }, locale: "ko-KR" });
    const koPage = await korean.newPage();
    await koPage.goto(`${urls.web}/wallet`);
    await koPage.getByRole("button", { name: "메신저로 계속하기" }).waitFor({ timeout: 60_000 });
    expect(await koPage.evaluate(() => document.documentElement.lang)).toBe("ko");
    await shot(koPage, "16-sign-in-ko");
    await korean.close();
  });
});
