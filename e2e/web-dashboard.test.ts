/**
 * The merchant dashboard in a real browser (issue 10, deliverable 3): Debian's Chromium through playwright-core,
 * against a pay server listening on a port (the test's own, PGlite, built as the server builds itself) and the web
 * app's own server serving the production build, on two origins as in production (the dashboard calls the merchant
 * API across origins, with CORS for exactly the web app's origin).
 * - The owner (made through the users' service with a known password, as the operator CLI and the demo make one)
 *   signs in with the password and, the first time, sets up TOTP from the page: the test reads the key the page
 *   shows and computes the code with otpauth, as an authenticator app would.
 * - The owner sees the payments, finds a captured one (made through the API with the secret key, authorized as the
 *   payer's approval flow records it, captured through the API), opens it, tries a refund above what is left (the
 *   form says so and sends nothing), refunds part, and sees the refund in the timeline and the API.
 * - The owner adds a support user on the Team page (the temporary password is shown once); that user signs in on a
 *   phone (360 px), sees the payment without a refund button and with the reason, and the pay server answers 403
 *   `permission_denied` when the refund is forced with that session.
 * - Passkeys (the web app at `localhost`, where browsers allow them; Chromium's virtual authenticator through CDP, so
 *   the real WebAuthn ceremonies run against the pay server): a second owner signs in with password and TOTP, adds a
 *   passkey on the Overview, signs out and signs in with the passkey alone to the payments. A teammate's passkey stops
 *   working once that owner disables her on the Team page, and a passkey the server never registered (one made on
 *   another device, naming a real user) opens nothing: the page says so and keeps no session.
 * - Every screen at 1280 px and 360 px: screenshots under test-artifacts/web-dashboard/, axe finds no serious or
 *   critical violation.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Secret } from "@mpay/protocol";
import { authorizeThroughService, TEST_ORIGIN, type TestPay } from "../services/pay/src/testing/system.ts";
import { EndpointHealth } from "../services/pay/src/webhooks/endpoint-health.ts";
import {
  addVirtualAuthenticator,
  DESKTOP,
  expectNoSeriousAxe,
  launchBrowser,
  newParty,
  PHONE,
  shot,
} from "./support/browser.ts";
import { signInWithPasskey, signInWithTotp, type TotpSignIn } from "./support/dashboard-pages.ts";
import { openPayWithWebApp, type PayWithWebApp } from "./support/pay-system.ts";

const OWNER = { email: "owner@demo-mall.example", password: "correct horse battery staple", name: "Ji-woo Kim" };

let served: PayWithWebApp | undefined;
let t: TestPay;
let browser: Browser;
let payUrl: string;
let webUrl: string;
let captured: { id: string; orderId: string };

/** An endpoint fails now and 3 days later: MPay disables it (the days pass on the clocks of two EndpointHealth). */
async function failForThreeDays(endpointId: string): Promise<void> {
  const daysLater = { now: () => new Date(Date.now() + 3 * 86_400_000 + 60_000) };
  for (const clock of [{ now: () => new Date() }, daysLater])
    await t.system.database.db.transaction((tx) =>
      new EndpointHealth(t.system.audit, clock).failed(tx, endpointId, async () => {}),
    );
}
/** The owner's TOTP key, as the first sign-in set it up. */
let ownerKey: string | undefined;

async function api<T>(
  method: "GET" | "POST",
  path: string,
  auth: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const answer = await fetch(`${payUrl}/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${auth}`,
      ...(body === undefined ? {} : { "content-type": "application/json", "idempotency-key": randomUUID() }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: answer.status, body: (await answer.json()) as T };
}

/** A captured payment, as a merchant's server and a payer make one: created and captured through the API. */
async function capturedPayment(amount: number, itemName: string): Promise<{ id: string; orderId: string }> {
  const orderId = `dash-${randomUUID().slice(0, 8)}`;
  const key = t.merchant.secretKey;
  const created = await api<{ id: string }>("POST", "/payments", key, {
    amount,
    currency: "KRW",
    orderId,
    itemName,
    returnUrl: `${TEST_ORIGIN}/done`,
    cancelUrl: `${TEST_ORIGIN}/cart`,
    captureMethod: "manual",
  });
  expect(created.status).toBe(200);
  await authorizeThroughService(t.system, created.body.id);
  const capture = await api<{ status: string }>("POST", `/payments/${created.body.id}/capture`, key, {});
  expect(capture.body.status).toBe("captured");
  return { id: created.body.id, orderId };
}

/**
 * Signs in to the dashboard with email and password, then TOTP: set up from the key the page shows the first time
 * (answered, for the next sign-in), or the code of `who.totpSecret` `aheadMs` ahead (a code's time step is accepted
 * once). Each of the two screens is shot and checked by axe.
 */
async function signIn(page: Page, who: TotpSignIn, name: string, aheadMs = 0): Promise<string> {
  const key = await signInWithTotp(page, `${webUrl}/dashboard`, who, {
    aheadMs,
    onScreen: async (screen) => {
      await shot(page, `${name}-${screen === "password" ? "1-sign-in" : `2-${screen}`}`);
      await expectNoSeriousAxe(page);
    },
  });
  await page.getByRole("navigation").first().waitFor({ timeout: 60_000 });
  return key;
}

beforeAll(async () => {
  // The web app at localhost, for the passkeys' test: the pay server's relying party is its origin.
  [served, browser] = await Promise.all([openPayWithWebApp({ passkeys: true }), launchBrowser()]);
  ({ t, payUrl, webUrl } = served);
  await t.system.merchantUsers.create({
    merchantId: t.merchant.id,
    email: OWNER.email,
    name: OWNER.name,
    role: "owner",
    actor: "operator:e2e",
    password: new Secret(OWNER.password),
  });
  await capturedPayment(12_000, "Wool scarf");
  captured = await capturedPayment(35_000, "Linen shirt");
}, 420_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

describe("the merchant dashboard [pglite]", () => {
  let temporary: { email: string; password: string } | undefined;

  it("lets the owner sign in with password and TOTP, find a payment, refund part of it and see it in the timeline", async () => {
    const context = await newParty(browser, { screen: DESKTOP });
    const page = await context.newPage();
    ownerKey = await signIn(page, OWNER, "owner");
    await page.getByRole("heading", { level: 1, name: "Payments" }).waitFor();

    // The list: the TEST badge, both payments, newest first; the search finds the one by its order id.
    await expect.poll(() => page.locator("tbody tr").count()).toBe(2);
    expect(await page.locator(".dash-test-badge").textContent()).toBe("TEST");
    await shot(page, "owner-3-payments-1280");
    await expectNoSeriousAxe(page);
    await page.getByLabel("Search").fill(captured.orderId);
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.locator("tbody tr").count()).toBe(1);

    // The CSV export downloads what the filters select, through the API with this session.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export CSV" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^payments-test-\d{4}-\d\d-\d\d\.csv$/);
    const csv = (await readFile((await download.path())!, "utf8")).split("\r\n");
    expect(csv[0]).toMatch(/^id,createdAt,status,amount,currency,/);
    expect(csv.slice(1, -1)).toEqual([expect.stringContaining(`${captured.id},`)]);
    expect(csv[1]).toContain(`,captured,35000,KRW,35000,0,manual,${captured.orderId},Linen shirt,`);
    await page.getByRole("link", { name: /₩35,000/ }).click();

    // The payment: captured, its timeline, the refund button.
    await page.getByRole("heading", { level: 2, name: "Timeline" }).waitFor();
    await expect.poll(() => page.locator(".dash-timeline-item").count()).toBeGreaterThanOrEqual(5);
    await expect.poll(() => page.getByText("Captured ₩35,000").count()).toBe(1);
    await shot(page, "owner-4-payment-1280");
    await expectNoSeriousAxe(page);

    await page.getByRole("button", { name: "Refund" }).click();
    const dialog = page.getByRole("dialog", { name: "Refund this payment?" });
    await dialog.waitFor();
    const amount = dialog.getByLabel("Amount to refund (KRW)");
    await amount.fill("40000");
    await expect.poll(() => dialog.getByText("At most ₩35,000 can be refunded.").count()).toBe(1);
    await dialog.getByRole("button", { name: "Refund" }).click();
    await expect.poll(() => dialog.getByRole("alert").textContent()).toBe("At most ₩35,000 can be refunded.");
    await amount.fill("12,000");
    await shot(page, "owner-5-refund-dialog-1280");
    await expectNoSeriousAxe(page);
    await dialog.getByRole("button", { name: "Refund" }).click();
    await expect.poll(() => page.getByRole("status").filter({ hasText: "Refunded ₩12,000." }).count()).toBe(1);
    await expect.poll(() => page.locator(".dash-timeline-title", { hasText: "Refunded ₩12,000" }).count()).toBe(1);
    await expect
      .poll(() => page.locator(".dash-timeline-title", { hasText: "Event refund.succeeded" }).count())
      .toBe(1);
    await shot(page, "owner-6-refunded-1280");
    await expectNoSeriousAxe(page);

    // The API agrees: one refund of 12,000, nothing else.
    const payment = await api<{ amountRefunded: number; amountRefundable: number }>(
      "GET",
      `/payments/${captured.id}`,
      t.merchant.secretKey,
    );
    expect(payment.body).toMatchObject({ amountRefunded: 12_000, amountRefundable: 23_000 });

    // The other screens, each checked.
    for (const [path, heading, name] of [
      ["/dashboard/overview", "Overview", "owner-7-overview"],
      ["/dashboard/developers", "Developers", "owner-8-developers"],
    ] as const) {
      await page.getByRole("link", { name: heading, exact: true }).click();
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
      expect(new URL(page.url()).pathname).toBe(path);
      await page.locator(".dash-loading").waitFor({ state: "detached" });
      // The overview's totals: the two payments of the test, authorized today.
      if (heading === "Overview") expect(await page.locator(".dash-total dd").first().textContent()).toBe("2");
      await shot(page, `${name}-1280`);
      await expectNoSeriousAxe(page);
    }

    // A webhook endpoint added here (test mode takes loopback URLs); its test event answers either the delivery
    // (the API's test route) or, on a server without that route yet, says so plainly.
    await page.getByLabel("Endpoint URL").fill("http://127.0.0.1:9/hooks");
    await page.getByLabel("refund.succeeded").check();
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await page.locator(".dash-endpoint-url", { hasText: "http://127.0.0.1:9/hooks" }).waitFor();
    await page.getByRole("button", { name: "Send test event" }).click();
    await expect
      .poll(() => page.locator(".dash-notice:not(.dash-notice-empty)").first().textContent())
      .toMatch(/cannot do this yet|test event/);
    await shot(page, "owner-8-developers-endpoint-1280");
    await expectNoSeriousAxe(page);

    // The endpoint (nothing listens on port 9) fails for 3 days: MPay disables it, and the screen says when and
    // since when, with the way back.
    const { data: endpoints } = (
      await api<{ data: { id: string; url: string }[] }>("GET", "/webhook-endpoints", t.merchant.secretKey)
    ).body;
    const deadId = endpoints.find((e) => e.url === "http://127.0.0.1:9/hooks")!.id;
    await failForThreeDays(deadId);
    await page.reload();
    const deadNotice = page.locator(".dash-notice-error", { hasText: "fix the endpoint and enable it again" });
    await deadNotice.waitFor();
    expect(await deadNotice.textContent()).toMatch(/^Disabled on .+ after failing since .+: fix the endpoint/);
    await shot(page, "owner-8-developers-auto-disabled-1280");
    await expectNoSeriousAxe(page);
    await page.setViewportSize(PHONE);
    await shot(page, "owner-8-developers-auto-disabled-360");
    await page.setViewportSize(DESKTOP);
    await page.getByRole("button", { name: "Enable again" }).click();
    await deadNotice.waitFor({ state: "detached" });
    expect(
      (await api<{ status: string }>("GET", `/webhook-endpoints/${deadId}`, t.merchant.secretKey)).body.status,
    ).toBe("enabled");

    // Live mode: the switch re-asks the API with MPay-Mode: live, which this merchant does not have yet (its live keys
    // are not issued, and the dev key provider refuses them): said plainly, and the TEST badge is gone.
    await page.getByRole("link", { name: "Payments", exact: true }).click();
    await page.getByRole("switch", { name: "Test mode" }).uncheck();
    await page.getByRole("alert").filter({ hasText: "This account has no live mode yet" }).waitFor();
    expect(await page.locator(".dash-test-badge").count()).toBe(0);
    await shot(page, "owner-8-live-mode-1280");
    await page.getByRole("switch", { name: "Test mode" }).check();
    await expect.poll(() => page.locator("tbody tr").count()).toBe(2);

    // Team: the owner adds a support user; the temporary password is shown once.
    await page.getByRole("link", { name: "Team", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Team" }).waitFor();
    const email = `support-${randomUUID().slice(0, 8)}@demo-mall.example`;
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Name").fill("Seo-yeon Lee");
    await page.locator("select[name=role]").selectOption("support");
    await page.getByRole("button", { name: "Add member" }).click();
    const shown = page.locator(".dash-secret-value");
    await shown.waitFor();
    temporary = { email, password: ((await shown.textContent()) ?? "").trim() };
    expect(temporary.password.length).toBeGreaterThanOrEqual(12);
    await page.locator("tbody tr", { hasText: email }).waitFor();
    await shot(page, "owner-9-team-1280");
    await expectNoSeriousAxe(page);
    await context.close();
  }, 240_000);

  it("gives a support user no refund button on a phone, and the pay server refuses the refund forced with that session", async () => {
    expect(temporary, "the owner's test adds the support user").toBeDefined();
    const context = await newParty(browser, { screen: PHONE });
    const page = await context.newPage();
    await signIn(page, temporary!, "support-360");
    await expect.poll(() => page.locator("tbody tr").count()).toBe(2);
    await shot(page, "support-360-3-payments");
    await expectNoSeriousAxe(page);

    await page.goto(`${webUrl}/dashboard/payments/${captured.id}`);
    await page.getByRole("heading", { level: 2, name: "Timeline" }).waitFor();
    await page.getByTestId("actions-not-allowed").waitFor();
    expect(await page.getByRole("button", { name: "Refund" }).count()).toBe(0);
    expect(await page.getByTestId("actions-not-allowed").textContent()).toContain("Support");
    await shot(page, "support-360-4-payment");
    await expectNoSeriousAxe(page);

    // Forced: the same request the owner's button sends, with this user's session, from this page.
    const forced = await page.evaluate(
      async ({ payUrl: base, paymentId }) => {
        const stored = JSON.parse(sessionStorage.getItem("mpay.dashboard.session") ?? "{}") as { token?: string };
        const answer = await fetch(`${base}/v1/payments/${paymentId}/refunds`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${stored.token}`,
            "mpay-mode": "test",
            "content-type": "application/json",
            "idempotency-key": crypto.randomUUID(),
          },
          body: JSON.stringify({ amount: 1000 }),
        });
        return { status: answer.status, body: (await answer.json()) as { error?: { code?: string } } };
      },
      { payUrl, paymentId: captured.id },
    );
    expect(forced.status).toBe(403);
    expect(forced.body.error?.code).toBe("permission_denied");
    const payment = await api<{ amountRefunded: number }>("GET", `/payments/${captured.id}`, t.merchant.secretKey);
    expect(payment.body.amountRefunded).toBe(12_000);

    // Support sees the overview and developers too, at 360 px; the Team page is not theirs.
    for (const [path, heading, name] of [
      ["/dashboard/overview", "Overview", "support-360-5-overview"],
      ["/dashboard/developers", "Developers", "support-360-6-developers"],
    ] as const) {
      await page.goto(`${webUrl}${path}`);
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
      await page.locator(".dash-loading").waitFor({ state: "detached" });
      await shot(page, name);
      await expectNoSeriousAxe(page);
    }
    expect(await page.getByRole("link", { name: "Team", exact: true }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Roll key" }).count()).toBe(0);
    await context.close();
  }, 240_000);

  it("shows the owner's screens at phone width, in Korean", async () => {
    expect(ownerKey, "the owner's first test sets up TOTP").toBeDefined();
    // The endpoint the owner enabled again fails for 3 more days: the Korean notice is looked at too.
    const { data: endpoints } = (
      await api<{ data: { id: string; url: string }[] }>("GET", "/webhook-endpoints", t.merchant.secretKey)
    ).body;
    await failForThreeDays(endpoints.find((e) => e.url === "http://127.0.0.1:9/hooks")!.id);
    const context = await newParty(browser, { screen: PHONE, locale: "ko-KR" });
    const page = await context.newPage();
    await signIn(page, { ...OWNER, totpSecret: ownerKey! }, "owner-ko-360", 30_000);
    await page.getByRole("heading", { level: 1, name: "결제" }).waitFor();
    await expect.poll(() => page.locator("tbody tr").count()).toBe(2);
    await shot(page, "owner-ko-360-3-payments");
    await expectNoSeriousAxe(page);
    for (const [path, name] of [
      [`/dashboard/payments/${captured.id}`, "owner-ko-360-4-payment"],
      ["/dashboard/overview", "owner-ko-360-5-overview"],
      ["/dashboard/developers", "owner-ko-360-6-developers"],
      ["/dashboard/team", "owner-ko-360-7-team"],
    ] as const) {
      await page.goto(`${webUrl}${path}`);
      await page.locator(".dash-title").waitFor();
      await expect.poll(() => page.locator(".dash-loading").count()).toBe(0);
      if (path === "/dashboard/developers") {
        const notice = page.locator(".dash-notice-error", { hasText: "다시 사용하세요" });
        await notice.waitFor();
        await page.getByRole("button", { name: "다시 사용" }).waitFor();
        await page.setViewportSize(DESKTOP);
        await shot(page, "owner-ko-1280-6-developers-auto-disabled");
        await page.setViewportSize(PHONE);
      }
      await shot(page, name);
      await expectNoSeriousAxe(page);
    }
    await page.goto(`${webUrl}/dashboard/payments/${captured.id}`);
    await page.getByRole("button", { name: "환불" }).click();
    await page.getByRole("dialog").waitFor();
    await shot(page, "owner-ko-360-8-refund-dialog");
    await expectNoSeriousAxe(page);
    await context.close();
  }, 240_000);
});

describe("passkey sign-in to the dashboard [pglite]", () => {
  /** A dashboard user of the test merchant with a password the test knows, as an owner hands a new one over. */
  async function teammate(name: string, role: "owner" | "developer" | "support"): Promise<TotpSignIn & { id: string }> {
    const email = `${name.split(" ")[0]!.toLowerCase()}-${randomUUID().slice(0, 8)}@demo-mall.example`;
    const password = `passkey ${randomUUID()}`;
    const { user } = await t.system.merchantUsers.create({
      merchantId: t.merchant.id,
      email,
      name,
      role,
      actor: "operator:e2e",
      password: new Secret(password),
    });
    return { id: user.id, email, password };
  }

  /** Overview → "Your passkey" → Add a passkey: the page's authenticator makes one, the pay server stores it. */
  async function addPasskey(page: Page): Promise<void> {
    await page.goto(`${webUrl}/dashboard/overview`);
    const section = page.getByRole("region", { name: "Your passkey" });
    await section.getByRole("button", { name: "Add a passkey" }).click();
    await section
      .getByRole("status")
      .filter({ hasText: "Passkey added. Next time choose “Sign in with a passkey”." })
      .waitFor({ timeout: 60_000 });
  }

  /** The session this tab keeps (the dashboard's sessionStorage), if any. */
  const storedSession = (page: Page) =>
    page.evaluate(() => sessionStorage.getItem("mpay.dashboard.session") ?? undefined);

  /** Who the pay server says a session token is. */
  async function sessionUser(token: string): Promise<{ status: number; email?: string }> {
    const answer = await fetch(`${payUrl}/v1/dashboard/me`, {
      headers: { authorization: `Bearer ${token}`, "mpay-mode": "test" },
    });
    return { status: answer.status, email: ((await answer.json()) as { user?: { email: string } }).user?.email };
  }

  it("signs in with password and TOTP, adds a passkey, signs out and signs in with the passkey; a disabled teammate's passkey is refused", async () => {
    const minjun = await teammate("Min-jun Choi", "owner");
    const dana = await teammate("Dana Seo", "support");

    // Dana, on her phone: password and TOTP set up from the page, then a passkey of her own; she signs out.
    const phone = await newParty(browser, { screen: PHONE });
    const danaPage = await phone.newPage();
    const danaDevice = await addVirtualAuthenticator(danaPage);
    await signIn(danaPage, dana, "passkey-dana-360");
    await addPasskey(danaPage);
    expect(await danaDevice.signCounts()).toHaveLength(1);
    await danaPage.getByRole("button", { name: "Sign out" }).click();
    await danaPage.getByRole("button", { name: "Sign in with a passkey" }).waitFor();

    // Min-jun, at a desktop: no passkey yet, so password and TOTP; the Overview offers one (a host name, not an IP).
    const desktop = await newParty(browser, { screen: DESKTOP });
    const page = await desktop.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    const device = await addVirtualAuthenticator(page);
    await signIn(page, minjun, "passkey-1");
    await page.getByRole("link", { name: "Overview", exact: true }).click();
    const section = page.getByRole("region", { name: "Your passkey" });
    await section.getByRole("button", { name: "Add a passkey" }).waitFor();
    expect(await section.getByRole("button", { name: "Add a passkey" }).isEnabled()).toBe(true);
    expect(await page.getByText("Passkeys need this page opened at a host name").count()).toBe(0);
    await page.locator(".dash-loading").waitFor({ state: "detached" });
    await shot(page, "passkey-3-overview-1280");
    await expectNoSeriousAxe(page);
    await addPasskey(page);
    const registered = await device.signCounts();
    expect(registered).toHaveLength(1);
    await shot(page, "passkey-4-added-1280");
    await expectNoSeriousAxe(page);

    // Signed out: the tab forgets the session and the pay server ends it; the sign-in page offers the passkey.
    const before = JSON.parse((await storedSession(page)) ?? "{}") as { token: string };
    expect((await sessionUser(before.token)).status).toBe(200);
    await page.getByRole("button", { name: "Sign out" }).click();
    const withPasskey = page.getByRole("button", { name: "Sign in with a passkey" });
    await withPasskey.waitFor();
    expect(await withPasskey.isEnabled()).toBe(true);
    expect(await storedSession(page)).toBeUndefined();
    await expect.poll(async () => (await sessionUser(before.token)).status).toBe(401);
    await shot(page, "passkey-5-signed-out-1280");
    await expectNoSeriousAxe(page);

    // The passkey alone, from the dashboard's address: no email, password or code; the payments, as Min-jun (the
    // pay server says whose session).
    await signInWithPasskey(page, `${webUrl}/dashboard`);
    await page.getByRole("heading", { level: 1, name: "Payments" }).waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator("tbody tr").count()).toBeGreaterThanOrEqual(2);
    await page.getByText("Min-jun Choi").first().waitFor();
    const session = JSON.parse((await storedSession(page)) ?? "{}") as { token?: string };
    expect(await sessionUser(session.token ?? "")).toEqual({ status: 200, email: minjun.email });
    const used = await device.signCounts();
    expect(used).toHaveLength(1);
    expect(used[0]!).toBeGreaterThan(registered[0]!);
    await shot(page, "passkey-6-signed-in-1280");
    await expectNoSeriousAxe(page);

    // Min-jun disables Dana on the Team page: her passkey opens nothing from then on.
    await page.getByRole("link", { name: "Team", exact: true }).click();
    await page.getByRole("button", { name: "Disable Dana Seo" }).click();
    await page.getByRole("status").filter({ hasText: "Dana Seo was updated." }).waitFor();
    await page.locator("tbody tr", { hasText: "Dana Seo" }).getByText("Disabled").waitFor();
    await signInWithPasskey(danaPage, `${webUrl}/dashboard`);
    await danaPage
      .getByRole("alert")
      .filter({ hasText: "This passkey is not registered for the dashboard." })
      .waitFor({ timeout: 60_000 });
    expect(await storedSession(danaPage)).toBeUndefined();
    expect(await danaPage.getByRole("heading", { level: 1, name: "Payments" }).count()).toBe(0);
    await shot(danaPage, "passkey-7-disabled-refused-360");
    await expectNoSeriousAxe(danaPage);

    expect(pageErrors).toEqual([]);
    await desktop.close();
    await phone.close();
  }, 300_000);

  it("refuses a passkey the pay server never registered, even one that names a real user", async () => {
    const victim = await teammate("Hana Lim", "owner");
    const context = await newParty(browser, { screen: DESKTOP });
    const page = await context.newPage();
    // Another device's passkey for this site (localhost) carrying Hana's user id: never registered here.
    const device = await addVirtualAuthenticator(page);
    await device.importPasskey("localhost", victim.id);
    await signInWithPasskey(page, `${webUrl}/dashboard`);
    await page
      .getByRole("alert")
      .filter({ hasText: "This passkey is not registered for the dashboard." })
      .waitFor({ timeout: 60_000 });
    // The authenticator did answer (its counter moved), and the page still asks for a sign-in, with no session.
    expect(await device.signCounts()).toEqual([1]);
    expect(await storedSession(page)).toBeUndefined();
    await page.getByRole("button", { name: "Sign in with a passkey" }).waitFor();
    await shot(page, "passkey-8-unknown-refused-1280");
    await expectNoSeriousAxe(page);
    await context.close();
  }, 120_000);
});
