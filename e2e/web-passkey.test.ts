/**
 * Passkeys in the web wallet, in a real browser (Chromium through playwright-core, 360 px, a phone) against what
 * `npm start` runs, with the web app at its default kind of URL, `http://localhost:<port>` (a host name: browsers
 * allow no passkey at an IP address). The passkey is Chromium's virtual authenticator (CDP WebAuthn domain: a
 * platform authenticator with user verification), so the real WebAuthn ceremonies run end to end: the pay server
 * verifies the registration and each assertion, and the card's issuer verifies the assertion again against the
 * passkey bound when the card was enrolled.
 *
 * The payer signs in with the messenger, sets the PIN, adds a card, then adds a passkey in Settings → Passkeys, then
 * adds a second card. On the pay sheet the first card (enrolled before the passkey) says it pays with the PIN and
 * offers no passkey; the second offers it, and the payment approved with the passkey is captured; the authenticator
 * holds one credential whose sign counter moved. A second payment with the authenticator's user verification off
 * pays nothing, says so, and the PIN offered instead pays it. Then in Korean: the pay sheet's note, and the passkey
 * removed, after which no pay sheet offers it. axe finds no serious or critical violation on the screens.
 * Screenshots: test-artifacts/web-passkey/.
 */
import { randomUUID } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDemoConfig, readDemoMerchant } from "../scripts/demo/config.ts";
import { MerchantApi } from "../scripts/demo/merchant.ts";
import {
  addVirtualAuthenticator,
  expectNoSeriousAxe,
  launchBrowser,
  newParty,
  PHONE,
  shot,
} from "./support/browser.ts";
import { startTestSystem, type TestSystem } from "./support/npm-start.ts";
import { addCard, enterPin, newPayer, onboardPayer } from "./support/wallet-pages.ts";

const PIN = "730529";
const ISSUER = "handae";
/** Handae's test cards: no other browser test enrolls them. The first is added before the passkey. */
const BEFORE_PASSKEY = {
  pan: "4333000000000018",
  expiry: "12/31",
  cvc: "604",
  phone: "+821055530001",
  issuerId: ISSUER,
};
const AFTER_PASSKEY = {
  pan: "5333000000000023",
  expiry: "12/31",
  cvc: "052",
  phone: "+821055530002",
  issuerId: ISSUER,
};
const SHOP = "http://127.0.0.1:4400";

let mpay: TestSystem | undefined;
let browser: Browser | undefined;
let urls: TestSystem["urls"];
let merchant: MerchantApi;

beforeAll(async () => {
  [mpay, browser] = await Promise.all([
    startTestSystem("passkey", { webHost: "localhost", env: () => ({ ISSUER_IDS: ISSUER }) }),
    launchBrowser(),
  ]);
  urls = mpay.urls;
  merchant = new MerchantApi(urls.pay, (await readDemoMerchant(loadDemoConfig(mpay.env))).secretKey);
}, 480_000);

afterAll(async () => {
  await browser?.close();
  await mpay?.stop();
});

function newPayment() {
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
}

const choose = (page: Page, card: typeof BEFORE_PASSKEY) =>
  page.getByRole("radio", { name: new RegExp(card.pan.slice(-4)) }).check();

describe("passkeys in the web wallet in Chromium at 360 px [pglite]", () => {
  it("adds a passkey, pays with it where the card is bound to it, refuses it without user verification and offers the PIN", {
    timeout: 600_000,
  }, async () => {
    expect(mpay!.system.output()).not.toContain("Passkeys are off");
    const payer = await newPayer(urls.messenger, "Minji Park");
    const context: BrowserContext = await newParty(browser!, { screen: PHONE });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));

    // 1. Sign in with the messenger, set the PIN, add the first card (before any passkey).
    await onboardPayer(page, urls, payer, PIN);
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
    await enterPin(page, PIN, "keyboard");
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
    await enterPin(page, PIN, "keyboard");
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
