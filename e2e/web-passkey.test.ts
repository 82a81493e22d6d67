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
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDemoConfig, readDemoMerchant, type DemoConfig } from "../scripts/demo/config.ts";
import { codeFromTestInbox } from "../scripts/demo/issuer.ts";
import { MerchantApi } from "../scripts/demo/merchant.ts";
import { createMessengerAccount } from "../scripts/demo/messenger.ts";
import { expectNoSeriousAxe, launchBrowser, newParty, PHONE, shot } from "./support/browser.ts";
import { freePorts } from "./support/messenger-process.ts";
import { npmStart, type StartedSystem } from "./support/npm-start.ts";
import { enterPin } from "./support/wallet-pages.ts";

const PIN = "730529";
/** Handae's test cards: no other browser test enrolls them. The first is added before the passkey. */
const BEFORE_PASSKEY = { pan: "4333000000000018", expiry: "12/31", cvc: "604", phone: "+821055530001" };
const AFTER_PASSKEY = { pan: "5333000000000023", expiry: "12/31", cvc: "052", phone: "+821055530002" };
const ISSUER = "handae";
const SHOP = "http://127.0.0.1:4400";

let dir: string;
let demo: DemoConfig;
let webUrl: string;
let system: StartedSystem | undefined;
let browser: Browser | undefined;
let merchant: MerchantApi;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mpay-e2e-passkey-"));
  const [payPort, issuerPort, messengerPort, webPort] = (await freePorts(4)) as [number, number, number, number];
  webUrl = `http://localhost:${webPort}`;
  const env = {
    PAY_PORT: String(payPort),
    ISSUER_PORT: String(issuerPort),
    MESSENGER_PORT: String(messengerPort),
    MPAY_WEB_URL: webUrl,
    MPAY_DATA_DIR: join(dir, "pay"),
    ISSUER_DATA_DIR: join(dir, "issuer"),
    MESSENGER_DATA_DIR: join(dir, "messenger"),
    MPAY_NETWORK_DIR: join(dir, "network"),
    ISSUER_IDS: ISSUER,
  };
  demo = loadDemoConfig(env);
  [system, browser] = await Promise.all([npmStart(env, 420_000), launchBrowser()]);
  merchant = new MerchantApi(demo.payUrl, (await readDemoMerchant(demo)).secretKey);
}, 480_000);

afterAll(async () => {
  await browser?.close();
  await system?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
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

/** The messenger's login page as the payer fills it in (and its consent page, if it shows one). */
async function signInAtMessenger(page: Page, phoneNumber: string, password: string): Promise<void> {
  await page.waitForURL((url) => url.origin === demo.messengerUrl, { timeout: 60_000 });
  await page.locator("#phone").fill(phoneNumber);
  await page.locator("#password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  const allow = page.getByRole("button", { name: "Allow" });
  await Promise.race([
    page.waitForURL((url) => url.origin === webUrl, { timeout: 60_000 }),
    allow.waitFor({ timeout: 60_000 }).then(() => allow.click()),
  ]);
}

async function addCard(page: Page, card: typeof BEFORE_PASSKEY): Promise<void> {
  await page.goto(`${webUrl}/wallet/cards/new`);
  await page.getByLabel("Card number").fill(card.pan);
  await page.getByLabel("Expiry").fill(card.expiry);
  await page.getByLabel("CVC").fill(card.cvc);
  const since = new Date();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("One-time code").waitFor({ timeout: 120_000 });
  await page.getByLabel("One-time code").fill(await codeFromTestInbox(demo.issuerUrl, card.phone, ISSUER, since));
  await page.getByRole("button", { name: "Confirm" }).click();
  await page.getByText(`Card ending ${card.pan.slice(-4)} is ready to pay.`).waitFor({ timeout: 120_000 });
}

/** The virtual authenticator's passkeys: how many, and each one's signature counter. */
async function credentials(cdp: CDPSession, authenticatorId: string): Promise<number[]> {
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  return credentials.map((credential) => credential.signCount);
}

const choose = (page: Page, card: typeof BEFORE_PASSKEY) =>
  page.getByRole("radio", { name: new RegExp(card.pan.slice(-4)) }).check();

describe("passkeys in the web wallet in Chromium at 360 px [pglite]", () => {
  it("adds a passkey, pays with it where the card is bound to it, refuses it without user verification and offers the PIN", {
    timeout: 600_000,
  }, async () => {
    expect(system!.output()).not.toContain("Passkeys are off");
    const phoneNumber = `+82107${String(Date.now()).slice(-7)}`;
    const password = `passkey-${randomUUID()}`;
    await createMessengerAccount(demo.messengerUrl, { phoneNumber, displayName: "Minji Park", password });
    const context: BrowserContext = await newParty(browser!, { screen: PHONE });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));

    // 1. Sign in with the messenger, set the PIN, add the first card (before any passkey).
    await page.goto(`${webUrl}/wallet`);
    await page.getByRole("button", { name: "Continue with messenger" }).click();
    await signInAtMessenger(page, phoneNumber, password);
    await page.getByRole("heading", { name: "Choose a 6-digit PIN" }).waitFor({ timeout: 120_000 });
    await enterPin(page, PIN, "click");
    await page.getByRole("heading", { name: "Enter the PIN again" }).waitFor();
    await enterPin(page, PIN, "keyboard");
    await page.getByText("Hello, Minji Park").waitFor({ timeout: 120_000 });
    await addCard(page, BEFORE_PASSKEY);

    // 2. The device's authenticator: a platform one with user verification (fingerprint, face or screen lock).
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });

    // 3. Settings → Passkeys: none yet; add one with the PIN, then the device's check.
    await page.goto(`${webUrl}/wallet/settings`);
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
    const registered = await credentials(cdp, authenticatorId);
    expect(registered).toHaveLength(1);

    // 4. The second card, enrolled after the passkey: bound to it at the issuer.
    await addCard(page, AFTER_PASSKEY);

    // 5. The pay sheet: the first card says it pays with the PIN and offers no passkey; the second offers it.
    const first = await newPayment();
    await page.goto(`${webUrl}/wallet/pay/${first.id}`);
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
    const afterPayment = await credentials(cdp, authenticatorId);
    expect(afterPayment).toHaveLength(1);
    expect(afterPayment[0]!).toBeGreaterThan(registered[0]!);

    // 7. The device no longer verifies the payer: the passkey approves nothing, the sheet says so, the PIN pays.
    await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });
    const second = await newPayment();
    await page.goto(`${webUrl}/wallet/pay/${second.id}`);
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
    expect(await credentials(cdp, authenticatorId)).toHaveLength(1);

    // 8. In Korean (the browser asks for it first from the next page on): the pay sheet's note, then the passkey
    // removed in Settings → Passkeys, after which the pay sheet offers it for no card.
    await context.addInitScript(() => Object.defineProperty(navigator, "languages", { get: () => ["ko-KR", "ko"] }));
    const third = await newPayment();
    await page.goto(`${webUrl}/wallet/pay/${third.id}`);
    await page.getByRole("button", { name: "35,000원 결제하기" }).waitFor({ timeout: 60_000 });
    await choose(page, BEFORE_PASSKEY);
    await page.getByText("이 카드는 패스키를 추가하기 전에 등록해서 비밀번호로 결제해요.", { exact: false }).waitFor();
    await choose(page, AFTER_PASSKEY);
    await page.getByRole("button", { name: "패스키로 결제" }).waitFor();
    await shot(page, "07-pay-sheet-ko");
    await expectNoSeriousAxe(page);
    await page.goto(`${webUrl}/wallet/settings/passkeys`);
    await page.getByRole("heading", { name: "이 기기의 패스키" }).waitFor({ timeout: 60_000 });
    await page.getByRole("button", { name: /에 추가한 패스키 삭제$/ }).click();
    await page.getByRole("button", { name: "패스키 삭제" }).click();
    await page.getByRole("status").filter({ hasText: "패스키를 삭제했어요." }).waitFor({ timeout: 60_000 });
    await page.getByText("아직 패스키가 없어요.").waitFor({ timeout: 60_000 });
    await shot(page, "08-passkey-removed-ko");
    await expectNoSeriousAxe(page);
    await page.goto(`${webUrl}/wallet/pay/${third.id}`);
    await page.getByRole("button", { name: "35,000원 결제하기" }).waitFor({ timeout: 60_000 });
    await choose(page, AFTER_PASSKEY);
    await expect(page.getByRole("button", { name: "패스키로 결제" }).count()).resolves.toBe(0);
    await expect(page.getByText("패스키를 추가하기 전에").count()).resolves.toBe(0);
    expect((await merchant.payment(third.id)).status).toBe("requires_approval");

    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
