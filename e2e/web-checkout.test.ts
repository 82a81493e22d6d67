/**
 * The hosted checkout in a real browser (issue 9), against `npm start` itself (scripts/start.mjs: the demo network,
 * the pay server, the issuer host, the messenger and the web app, on free ports). The demo merchant (its test key
 * from the pay server's first start) creates payments; Debian's Chromium opens their `checkoutUrl`:
 * - at 1280 px: the QR code of `<web>/open/pay/<id>`, an invalid number said plainly, a push to a payer's number
 *   (typed 010-…; the payer's messenger receives MPay's payment request with the same pairing code); the payer
 *   approves with the wallet SDK in Node (as `npm run demo` does) and the page follows it live, shows the result,
 *   then returns to the returnUrl;
 * - at 360 px on a touch screen: the "Pay in the messenger" button to `/open/pay/<id>`; the merchant cancels and the
 *   page says so and returns to the cancelUrl;
 * - every result screen (paid and returning, declined, canceled, expired) at 360 and 1280 px in English and at
 *   360 px in Korean, each screenshotted and checked by axe: the approved and canceled payments of the tests above, a
 *   payment the issuer declines (a PIN above its per-payment limit) and one whose approval window passed (the pay
 *   server's test clock moved past it);
 * - axe finds no serious or critical violation at either width; the Content-Security-Policy is sent and an inline
 *   script injected into the page does not run.
 * Screenshots: test-artifacts/web-checkout/. PGlite only (the demo merchant is made on the embedded default's first
 * start).
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setClockOffset } from "@mpay/service-kit";
import { qrCodeImage } from "../apps/web/src/checkout/qr.ts";
import { loadDemoConfig, readDemoMerchant, type DemoConfig } from "../scripts/demo/config.ts";
import type { Card, Wallet } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { codeFromTestInbox } from "../scripts/demo/issuer.ts";
import { createMessengerAccount, signInAtMessenger } from "../scripts/demo/messenger.ts";
import { demoWallet } from "../scripts/demo/payer.ts";
import { APPROVING_TEST_CARDS } from "../scripts/demo/test-cards.ts";
import { DESKTOP, expectNoSeriousAxe, launchBrowser, newParty, PHONE, shot } from "./support/browser.ts";
import { startTestSystem, type TestSystem } from "./support/npm-start.ts";
import { localNumber } from "./support/wallet-pages.ts";

/** The demo merchant's registered origin (services/pay/src/server.ts): its returnUrl and cancelUrl are there. */
const SHOP = "http://127.0.0.1:4400";

interface CreatedPayment {
  id: string;
  status: string;
  checkoutUrl: string;
}

let mpay: TestSystem | undefined;
let dir: string;
let demo: DemoConfig;
let webUrl: string;
let browser: Browser | undefined;
let secretKey: string;
/** The pay server's test clock (MPAY_TEST_CLOCK_FILE): the last test moves it past a payment's approval window. */
let payClock: string;
/** Final payments the tests make, for the result screens' test. */
const finals: Partial<Record<"authorized" | "declined" | "canceled", CreatedPayment>> = {};

async function merchantCall<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const answer = await fetch(`${demo.payUrl}/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${secretKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json", "idempotency-key": randomUUID() }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await answer.json()) as T;
  expect(answer.ok, `${method} ${path}: ${JSON.stringify(json)}`).toBe(true);
  return json;
}

function createPayment(itemName: string, amount = 35_000): Promise<CreatedPayment> {
  const orderId = `web-${randomUUID()}`;
  return merchantCall<CreatedPayment>("POST", "/payments", {
    amount,
    currency: "KRW",
    orderId,
    itemName,
    returnUrl: `${SHOP}/orders/${orderId}/done`,
    cancelUrl: `${SHOP}/cart`,
    captureMethod: "manual",
  });
}

/**
 * A page of a new party whose navigations to the shop are answered by the test (no shop server runs), or, with
 * `stay`, cancelled (net::ERR_ABORTED commits no error page), so a result screen stays put for its screenshot and
 * axe however long they take on a loaded machine.
 */
async function openParty(screen: typeof PHONE | typeof DESKTOP, locale = "en-US", stay = false): Promise<Page> {
  const context = await newParty(browser!, { screen, locale });
  await context.route(`${SHOP}/**`, (route) =>
    stay
      ? route.abort("aborted")
      : route.fulfill({
          status: 200,
          contentType: "text/html; charset=utf-8",
          body: "<!doctype html><title>Shop</title>",
        }),
  );
  return context.newPage();
}

/**
 * A payer as `npm run demo` makes one (scripts/demo): a messenger account whose number the test knows, signed in to
 * MPay through the messenger's login form, this device bound, a PIN, a KStar test card enrolled with the code from
 * the issuer's test inbox. Only public interfaces.
 */
async function payerOnAPhone(): Promise<{
  wallet: Wallet;
  card: Card;
  pin: string;
  phoneNumber: string;
  password: string;
}> {
  const phoneNumber = `+8210${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`;
  const password = `web-${randomUUID()}`;
  await createMessengerAccount(demo.messengerUrl, { phoneNumber, displayName: "Web Payer", password });
  const wallet = await demoWallet(
    demo,
    new FileKeyStore(join(dir, "phone", "keys.json"), FileKeyStore.newDeviceSecret()),
  );
  const { authorizationUrl, codeVerifier } = await wallet.startSignIn();
  await wallet.finishSignIn(await signInAtMessenger(authorizationUrl, phoneNumber, password), codeVerifier);
  await wallet.bindThisDevice("Web payer's phone");
  const pin = "582947";
  await wallet.setPin(pin);
  const testCard = APPROVING_TEST_CARDS.find((card) => card.issuerId === "kstar")!;
  const since = new Date();
  const pending = await wallet.startCardEnrollment({ pan: testCard.pan, expiry: testCard.expiry, cvc: testCard.cvc });
  const code = await codeFromTestInbox(demo.issuerUrl, testCard.phone, "kstar", since);
  return { wallet, card: await pending.complete(code), pin, phoneNumber, password };
}

beforeAll(async () => {
  [mpay, browser] = await Promise.all([
    startTestSystem("web", { env: (dir) => ({ ISSUER_IDS: "kstar", MPAY_TEST_CLOCK_FILE: join(dir, "pay-clock") }) }),
    launchBrowser(),
  ]);
  ({ dir } = mpay);
  payClock = mpay.env["MPAY_TEST_CLOCK_FILE"]!;
  demo = loadDemoConfig(mpay.env);
  webUrl = mpay.urls.web;
  ({ secretKey } = await readDemoMerchant(demo));
}, 480_000);

afterAll(async () => {
  await browser?.close();
  await mpay?.stop();
});

describe("the web app under npm start [pglite]", () => {
  it("is listed with the other services, serves the contract's policy, and an injected inline script does not run", async () => {
    expect(mpay!.system.output()).toContain(`  web app ${webUrl}  ·  pay server ${demo.payUrl}  ·  `);
    const payment = await createPayment("Linen shirt");
    expect(payment.checkoutUrl).toBe(`${webUrl}/checkout/${payment.id}`);

    const answer = await fetch(payment.checkoutUrl);
    const policy = answer.headers.get("content-security-policy") ?? "";
    expect(policy).toContain("script-src 'self' 'wasm-unsafe-eval';");
    expect(policy).toContain(
      `connect-src 'self' ${demo.payUrl} ${demo.messengerUrl} ${demo.messengerUrl.replace("http:", "ws:")};`,
    );
    expect(policy).toContain("frame-ancestors 'none'");
    expect(await answer.text()).toMatch(
      /<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js" integrity="sha384-[\w+/=]+">/,
    );

    const page = await openParty(DESKTOP);
    await page.goto(payment.checkoutUrl);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Demo Mall");
    const injected = await page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener("securitypolicyviolation", (event) => violations.push(event.violatedDirective));
      const script = document.createElement("script");
      script.textContent = "window.__injectedRan = true;";
      document.body.append(script);
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { ran: (window as { __injectedRan?: boolean }).__injectedRan === true, violations };
    });
    expect(injected.ran).toBe(false);
    expect(injected.violations).toContain("script-src-elem");

    // An id that does not exist is said plainly.
    await page.goto(`${webUrl}/checkout/pay_doesnotexist0000`);
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("We could not find this payment");
    await page.context().close();
  });

  it("at 1280 px: shows the QR code, pushes to the payer's messenger, follows the approval and returns to the shop", {
    timeout: 420_000,
  }, async () => {
    const payer = await payerOnAPhone();
    const payment = await createPayment("Linen shirt (white, M)");
    const page = await openParty(DESKTOP);
    await page.goto(payment.checkoutUrl);
    await expect.poll(() => page.locator(".co-summary-amount").textContent()).toBe("Amount ₩35,000");
    expect(await page.locator(".co-summary-item").textContent()).toBe("Linen shirt (white, M)");
    const pairingCode = (await page.locator(".co-pairing-code").textContent()) ?? "";
    expect(pairingCode).toMatch(/^[A-Z0-9]{4}$/);
    // No "Pay in the messenger" on a desktop: the QR code of the phone's way in, exactly.
    expect(await page.getByRole("link", { name: "Pay in the messenger" }).count()).toBe(0);
    const qr = page.getByRole("img", { name: "QR code that opens this payment in MPay on your phone" });
    await expect.poll(() => qr.getAttribute("src")).toBe(await qrCodeImage(`${webUrl}/open/pay/${payment.id}`));
    expect(await qr.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0)).toBe(true);
    await shot(page, "desktop-1-waiting");
    await expectNoSeriousAxe(page);

    // A number that is not one is said plainly, on the field.
    const phoneField = page.getByLabel("Mobile number");
    await phoneField.fill("12");
    await page.getByRole("button", { name: "Send request" }).click();
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toBe("This is not a mobile number. Enter it like 010-1234-5678, or with its country code like +1 415 555 0100.");
    expect(await phoneField.getAttribute("aria-invalid")).toBe("true");
    await shot(page, "desktop-2-invalid-number");

    // The push to the payer's number, typed as people in Korea know it: the page says where it went, and MPay's
    // official account sends the request, with the same pairing code, to that payer's messenger.
    await phoneField.fill(localNumber(payer.phoneNumber));
    await page.getByRole("button", { name: "Send request" }).click();
    await expect
      .poll(() => page.locator(".co-notice-success").textContent())
      .toBe(`Sent to +82 10-****-${payer.phoneNumber.slice(-4)} — check MPay in your messenger; code ${pairingCode}`);
    expect(await phoneField.getAttribute("aria-invalid")).toBe("false");
    await shot(page, "desktop-3-pushed");
    await expectNoSeriousAxe(page);
    const session = (await (
      await fetch(`${demo.messengerUrl}/api/sessions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ phoneNumber: payer.phoneNumber, password: payer.password }),
      })
    ).json()) as { sessionToken: string };
    const inbox = () =>
      fetch(`${demo.messengerUrl}/api/messages`, { headers: { authorization: `Bearer ${session.sessionToken}` } }).then(
        (answer) => answer.text(),
      );
    await expect.poll(inbox, { timeout: 30_000, interval: 500 }).toContain(`mpay:pay/${payment.id}`);
    expect(await inbox()).toContain(pairingCode);

    // The payer approves on the phone (the wallet SDK in Node, as npm run demo does); the page follows by itself.
    const { payment: decided } = await payer.wallet.approvePayment(payment.id, {
      cardId: payer.card.id,
      pin: payer.pin,
      confirm: async (terms) => terms.paymentId === payment.id && terms.amount === 35_000,
    });
    expect(decided.status).toBe("authorized");
    await expect
      .poll(() => page.getByRole("heading", { name: "Payment complete" }).count(), { timeout: 10_000 })
      .toBe(1);
    expect(await page.locator(".checkout-status").textContent()).toContain("Taking you back to Demo Mall…");
    // The result heading takes the focus, so a screen reader or keyboard user lands on it.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("checkout-result");
    // The result stays 2.5 s: a screenshot, then the page goes back to the shop by itself.
    await shot(page, "desktop-4-approved");
    await page.waitForURL(`${SHOP}/**`, { timeout: 10_000 });
    const back = new URL(page.url());
    expect(back.pathname).toMatch(/^\/orders\/web-[\w-]+\/done$/);
    expect(back.searchParams.get("paymentId")).toBe(payment.id);
    expect(back.searchParams.get("status")).toBe("authorized");
    await page.context().close();
    finals.authorized = payment;

    // The issuer declines a PIN above its per-payment limit (2,000,000 KRW): a declined payment for the results.
    const refused = await createPayment("Linen coat", 2_500_000);
    await payer.wallet
      .approvePayment(refused.id, { cardId: payer.card.id, pin: payer.pin, confirm: async () => true })
      .catch(() => undefined);
    await expect
      .poll(async () => (await merchantCall<CreatedPayment>("GET", `/payments/${refused.id}`)).status)
      .toBe("declined");
    finals.declined = refused;
  });

  it("at 360 px: offers the messenger, says a cancellation plainly and returns to the cancelUrl", {
    timeout: 240_000,
  }, async () => {
    const payment = await createPayment("Linen shirt");
    const page = await openParty(PHONE);
    await page.goto(payment.checkoutUrl);
    const button = page.getByRole("link", { name: "Pay in the messenger" });
    await expect.poll(() => button.getAttribute("href")).toBe(`/open/pay/${payment.id}`);
    expect(await page.getByRole("img").count()).toBe(0);
    // Big enough for a thumb, and the page fits the screen without scrolling sideways.
    const box = await button.boundingBox();
    expect(box!.height).toBeGreaterThanOrEqual(48);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await shot(page, "phone-1-waiting");
    await expectNoSeriousAxe(page);

    // Korean, as a Korean phone asks for it.
    const korean = await openParty(PHONE, "ko-KR");
    await korean.goto(payment.checkoutUrl);
    await expect.poll(() => korean.getByRole("link", { name: "메신저에서 결제하기" }).count()).toBe(1);
    expect(await korean.locator(".co-summary-amount").textContent()).toBe("결제 금액 35,000원");
    await shot(korean, "phone-2-korean");
    await expectNoSeriousAxe(korean);
    await korean.context().close();

    await merchantCall("POST", `/payments/${payment.id}/cancel`, {});
    await expect
      .poll(() => page.getByRole("heading", { name: "Payment not completed" }).count(), { timeout: 10_000 })
      .toBe(1);
    expect(await page.locator(".checkout-status").textContent()).toBe(
      "This payment was canceled. Taking you back to Demo Mall…",
    );
    await shot(page, "phone-3-canceled");
    await page.waitForURL(`${SHOP}/cart?**`, { timeout: 10_000 });
    expect(new URL(page.url()).searchParams.get("status")).toBe("canceled");
    finals.canceled = payment;

    // The button goes to the messenger's way into the wallet (the web app's /open/pay/<id>).
    const other = await createPayment("Linen shirt");
    await page.goto(other.checkoutUrl);
    await page.getByRole("link", { name: "Pay in the messenger" }).click();
    await page.waitForURL(`${webUrl}/open/pay/${other.id}`);
    await page.context().close();
  });
  it("shows every result, paid, declined, canceled and expired, at 360 and 1280 px and in Korean, with no serious axe violation", {
    timeout: 240_000,
  }, async () => {
    const { authorized, declined, canceled } = finals;
    if (!authorized || !declined || !canceled)
      throw new Error("the tests above make the approved, declined and canceled payments");
    // Expired: the pay server's clock passes the approval window (15 minutes); the checkout expires it when read.
    const lapsed = await createPayment("Linen scarf");
    setClockOffset(payClock, 16 * 60_000);
    const results = [
      { name: "paid", payment: authorized, en: "Taking you back to Demo Mall…", ko: "Demo Mall(으)로 돌아갑니다…" },
      {
        name: "declined",
        payment: declined,
        en: "Your card company declined this payment.",
        ko: "카드사에서 결제를 거절했습니다.",
      },
      { name: "canceled", payment: canceled, en: "This payment was canceled.", ko: "결제가 취소되었습니다." },
      {
        name: "expired",
        payment: lapsed,
        en: "This payment expired before it was approved.",
        ko: "승인 시간이 지나 결제가 만료되었습니다.",
      },
    ];
    const parties = [
      { label: "360", screen: PHONE, locale: "en-US" as const },
      { label: "1280", screen: DESKTOP, locale: "en-US" as const },
      { label: "360-ko", screen: PHONE, locale: "ko-KR" as const },
    ];
    try {
      for (const party of parties) {
        // The return to the shop after 2.5 s is cancelled, so the result stays on screen.
        const first = await openParty(party.screen, party.locale, true);
        const korean = party.locale === "ko-KR";
        for (const result of results) {
          // A page of its own per result: the previous result's timer (the return to the shop) must not fire into
          // this navigation and cancel it. Waiting for the commit only; the heading poll below waits for the rest.
          const page = await first.context().newPage();
          await page.goto(result.payment.checkoutUrl, { waitUntil: "commit" });
          const title =
            result.name === "paid"
              ? korean
                ? "결제 완료"
                : "Payment complete"
              : korean
                ? "결제가 완료되지 않았습니다"
                : "Payment not completed";
          await expect.poll(() => page.getByRole("heading", { name: title }).count(), { timeout: 10_000 }).toBe(1);
          expect(await page.locator(".checkout-status").textContent(), `${result.name} ${party.label}`).toContain(
            korean ? result.ko : result.en,
          );
          expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
            party.screen.width,
          );
          await shot(page, `result-${result.name}-${party.label}`);
          await expectNoSeriousAxe(page);
          expect(new URL(page.url()).pathname).toBe(`/checkout/${result.payment.id}`);
          await page.close();
        }
        await first.context().close();
      }
    } finally {
      setClockOffset(payClock, 0);
    }
  });
});
