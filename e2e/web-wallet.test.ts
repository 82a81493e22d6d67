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
 *
 * Passkeys, on the same system (one `npm start` for both tests: each has its own payer, cards and issuer, so neither
 * depends on the other): the web app runs at `http://localhost:<port>` (a host name: browsers allow no passkey at an
 * IP address), and the passkey is Chromium's virtual authenticator (CDP WebAuthn domain: a platform authenticator
 * with user verification), so the real WebAuthn ceremonies run end to end: the pay server verifies the registration
 * and each assertion, and the card's issuer verifies the assertion again against the passkey bound when the card was
 * enrolled. A second payer signs in with the messenger, sets the PIN, adds a card, then adds a passkey in Settings →
 * Passkeys, then adds a second card. On the pay sheet the first card (enrolled before the passkey) says it pays with
 * the PIN and offers no passkey; the second offers it, and the payment approved with the passkey is captured; the
 * authenticator holds one credential whose sign counter moved. A second payment with the authenticator's user
 * verification off pays nothing, says so, and the PIN offered instead pays it. Then in Korean: the pay sheet's note,
 * and the passkey removed, after which no pay sheet offers it (screenshots passkey-*.png).
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cardListSchema } from "@mpay/protocol";
import { backofficeCard } from "../scripts/demo/issuer.ts";
import { loadDemoConfig, readDemoMerchant } from "../scripts/demo/config.ts";
import { MerchantApi } from "../scripts/demo/merchant.ts";
import {
  addVirtualAuthenticator,
  DESKTOP,
  expectNoSeriousAxe,
  launchBrowser,
  newParty,
  PHONE,
  shot as shotAsIs,
} from "./support/browser.ts";
import { startTestSystem, type TestSystem } from "./support/npm-start.ts";
import {
  addCard,
  confirmCardWithCode,
  enterPin,
  fillCardForm,
  newPayer,
  onboardPayer,
  padLayout,
  pushToPayer,
  requestInMPayChat,
  screens,
  signInAtMessenger,
} from "./support/wallet-pages.ts";

const PIN = "204816";
const CARD = { pan: "4222000000000012", expiry: "12/31", cvc: "742", phone: "+821055520001", issuerId: "kstar" };
const SHOP = "http://127.0.0.1:4400";
const PASSKEY_PIN = "730529";
const PASSKEY_ISSUER = "handae";
/** Handae's test cards: no other browser test enrolls them. The first is added before the passkey. */
const BEFORE_PASSKEY = {
  pan: "4333000000000018",
  expiry: "12/31",
  cvc: "604",
  phone: "+821055530001",
  issuerId: PASSKEY_ISSUER,
};
const AFTER_PASSKEY = {
  pan: "5333000000000023",
  expiry: "12/31",
  cvc: "052",
  phone: "+821055530002",
  issuerId: PASSKEY_ISSUER,
};

let mpay: TestSystem | undefined;
let browser: Browser | undefined;
let urls: TestSystem["urls"];
const shot = screens(resolve("test-artifacts/web-wallet"));

beforeAll(async () => {
  [mpay, browser] = await Promise.all([
    startTestSystem("web-wallet", {
      // A host name, for the passkeys' test; at an IP address the wallet would offer none.
      webHost: "localhost",
      // The outbox's worker sends a refund's message (written in the merchant's transaction) within 2 s, not 30.
      env: () => ({ ISSUER_IDS: `${CARD.issuerId},${PASSKEY_ISSUER}`, MPAY_EXPIRY_INTERVAL_MS: "2000" }),
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

const choose = (page: Page, card: typeof BEFORE_PASSKEY) =>
  page.getByRole("radio", { name: new RegExp(card.pan.slice(-4)) }).check();

describe("passkeys in the web wallet in Chromium at 360 px [pglite]", () => {
  /** The passkey test's screenshots, apart from the wallet test's: passkey-<name>.png. */
  const shot = (page: Page, name: string) => shotAsIs(page, `passkey-${name}`);

  it("adds a passkey, pays with it where the card is bound to it, refuses it without user verification and offers the PIN", {
    timeout: 600_000,
  }, async () => {
    expect(mpay!.system.output()).not.toContain("Passkeys are off");
    const merchant = new MerchantApi(urls.pay, (await readDemoMerchant(loadDemoConfig(mpay!.env))).secretKey);
    const newPayment = () => {
      const orderId = `passkey-${randomUUID()}`;
      return merchant.createPayment({
        amount: 35_000,
        currency: "KRW",
        orderId,
        itemName: "Hallabong 3 kg",
        returnUrl: `${SHOP}/orders/${orderId}/done`,
        cancelUrl: `${SHOP}/cart`,
        captureMethod: "automatic",
      });
    };
    const payer = await newPayer(urls.messenger, "Minji Park");
    const context: BrowserContext = await newParty(browser!, { screen: PHONE });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));

    // 1. Sign in with the messenger, set the PIN, add the first card (before any passkey).
    await onboardPayer(page, urls, payer, PASSKEY_PIN);
    await addCard(page, urls, BEFORE_PASSKEY);

    // 2. The device's authenticator: a platform one with user verification (fingerprint, face or screen lock).
    const device = await addVirtualAuthenticator(page);

    // 3. Settings → Passkeys: none yet; add one with the PIN, then the device's check.
    await page.goto(`${urls.web}/wallet/settings`);
    await page.getByRole("link", { name: "Passkeys" }).click();
    await page.getByText("No passkeys yet.").waitFor({ timeout: 60_000 });
    await expect(page.getByText("Passkeys cannot be used here").count()).resolves.toBe(0);
    await shot(page, "01-passkeys-none");
    await expectNoSeriousAxe(page);
    await page.getByRole("button", { name: "Add a passkey" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Enter your PIN to add a passkey" }).waitFor();
    await enterPin(page, PASSKEY_PIN, "keyboard");
    await page.getByRole("status").filter({ hasText: "Passkey added." }).waitFor({ timeout: 120_000 });
    await page.getByRole("heading", { name: "Passkey on this device" }).waitFor({ timeout: 60_000 });
    await shot(page, "02-passkey-added");
    await expectNoSeriousAxe(page);
    const registered = await device.signCounts();
    expect(registered).toHaveLength(1);

    // 4. The second card, enrolled after the passkey: bound to it at the issuer.
    await addCard(page, urls, AFTER_PASSKEY);

    // 5. The pay sheet: the first card says it pays with the PIN and offers no passkey; the second offers it.
    const first = await newPayment();
    await page.goto(`${urls.web}/wallet/pay/${first.id}`);
    await page.getByRole("button", { name: "Pay ₩35,000" }).waitFor({ timeout: 60_000 });
    await choose(page, BEFORE_PASSKEY);
    await page.getByText("This card was added before your passkey, so it pays with your PIN.").waitFor();
    await expect(page.getByRole("button", { name: "Pay with passkey" }).count()).resolves.toBe(0);
    await shot(page, "03-card-before-passkey");
    await expectNoSeriousAxe(page);
    await choose(page, AFTER_PASSKEY);
    const withPasskey = page.getByRole("button", { name: "Pay with passkey" });
    await withPasskey.waitFor();
    await expect(page.getByText("This card was added before your passkey").count()).resolves.toBe(0);
    await shot(page, "04-card-with-passkey");
    await expectNoSeriousAxe(page);

    // 6. Approved with the passkey (by keyboard): captured at the pay server; one credential, its counter moved.
    await withPasskey.focus();
    await page.keyboard.press("Enter");
    await page.getByText("Payment complete").waitFor({ timeout: 180_000 });
    await shot(page, "05-paid-with-passkey");
    expect((await merchant.payment(first.id)).status).toBe("captured");
    const afterPayment = await device.signCounts();
    expect(afterPayment).toHaveLength(1);
    expect(afterPayment[0]!).toBeGreaterThan(registered[0]!);

    // 7. The device no longer verifies the payer: the passkey approves nothing, the sheet says so, the PIN pays.
    await device.setUserVerified(false);
    const second = await newPayment();
    await page.goto(`${urls.web}/wallet/pay/${second.id}`);
    await page.getByRole("button", { name: "Pay ₩35,000" }).waitFor({ timeout: 60_000 });
    await choose(page, AFTER_PASSKEY);
    await page.getByRole("button", { name: "Pay with passkey" }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: "Your device did not confirm it was you" })
      .filter({ hasText: "Nothing was paid. Pay with your PIN instead." })
      .waitFor({ timeout: 60_000 });
    expect((await merchant.payment(second.id)).status).toBe("requires_approval");
    await shot(page, "06-passkey-not-verified");
    await expectNoSeriousAxe(page);
    await page.getByRole("button", { name: "Pay ₩35,000" }).click();
    await page.getByRole("heading", { name: "Enter your payment PIN" }).waitFor();
    await enterPin(page, PASSKEY_PIN, "keyboard");
    await page.getByText("Payment complete").waitFor({ timeout: 180_000 });
    expect((await merchant.payment(second.id)).status).toBe("captured");
    expect(await device.signCounts()).toHaveLength(1);

    // 8. In Korean (the browser asks for it first from the next page on): the pay sheet's note, then the passkey
    // removed in Settings → Passkeys, after which the pay sheet offers it for no card.
    await context.addInitScript(() => Object.defineProperty(navigator, "languages", { get: () => ["ko-KR", "ko"] }));
    const third = await newPayment();
    await page.goto(`${urls.web}/wallet/pay/${third.id}`);
    await page.getByRole("button", { name: "35,000원 결제하기" }).waitFor({ timeout: 60_000 });
    await choose(page, BEFORE_PASSKEY);
    await page.getByText("이 카드는 패스키를 추가하기 전에 등록해서 비밀번호로 결제해요.", { exact: false }).waitFor();
    await choose(page, AFTER_PASSKEY);
    await page.getByRole("button", { name: "패스키로 결제" }).waitFor();
    await shot(page, "07-pay-sheet-ko");
    await expectNoSeriousAxe(page);
    await page.goto(`${urls.web}/wallet/settings/passkeys`);
    await page.getByRole("heading", { name: "이 기기의 패스키" }).waitFor({ timeout: 60_000 });
    await page.getByRole("button", { name: /에 추가한 패스키 삭제$/ }).click();
    await page.getByRole("button", { name: "패스키 삭제" }).click();
    await page.getByRole("status").filter({ hasText: "패스키를 삭제했어요." }).waitFor({ timeout: 60_000 });
    await page.getByText("아직 패스키가 없어요.").waitFor({ timeout: 60_000 });
    await shot(page, "08-passkey-removed-ko");
    await expectNoSeriousAxe(page);
    await page.goto(`${urls.web}/wallet/pay/${third.id}`);
    await page.getByRole("button", { name: "35,000원 결제하기" }).waitFor({ timeout: 60_000 });
    await choose(page, AFTER_PASSKEY);
    await expect(page.getByRole("button", { name: "패스키로 결제" }).count()).resolves.toBe(0);
    await expect(page.getByText("패스키를 추가하기 전에").count()).resolves.toBe(0);
    expect((await merchant.payment(third.id)).status).toBe("requires_approval");

    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
