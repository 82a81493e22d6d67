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
 * - Every screen at 1280 px and 360 px: screenshots under test-artifacts/web-dashboard/, axe finds no serious or
 *   critical violation.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Secret as OtpSecret, TOTP } from "otpauth";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Secret } from "@mpay/protocol";
import { DEFAULT_DIST_DIR } from "../apps/web/server/config.ts";
import { startWebServer, type RunningWebServer } from "../apps/web/server/server.ts";
import { authorizeThroughService, openTestPay, TEST_ORIGIN, type TestPay } from "../services/pay/src/testing/system.ts";
import { DESKTOP, expectNoSeriousAxe, launchBrowser, newParty, PHONE, shot } from "./support/browser.ts";
import { freePorts } from "./support/messenger-process.ts";
import { ensureWebAppBuilt } from "./support/web-app.ts";

const OWNER = { email: "owner@demo-mall.example", password: "correct horse battery staple", name: "Ji-woo Kim" };

let dir: string;
let t: TestPay;
let web: RunningWebServer;
let browser: Browser;
let payUrl: string;
let webUrl: string;
let captured: { id: string; orderId: string };
/** The owner's TOTP key, as the first sign-in set it up. */
let ownerKey: string | undefined;

/** The code an authenticator app shows for a key (RFC 6238: SHA-1, 6 digits, 30 s). */
function totpCode(base32: string, aheadMs = 0): string {
  return new TOTP({ algorithm: "SHA1", digits: 6, period: 30, secret: OtpSecret.fromBase32(base32) }).generate({
    timestamp: Date.now() + aheadMs,
  });
}

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
 * Signs in with email and password, then TOTP: set up from the key the page shows the first time (answered, for the
 * next sign-in), or the code of `knownKey`. A code's time step is accepted once, so a later sign-in takes the next
 * step's code (the server accepts one step either side of now).
 */
async function signIn(page: Page, who: { email: string; password: string; knownKey?: string }, name: string) {
  await page.goto(`${webUrl}/dashboard`);
  await page.locator("input[name=email]").fill(who.email);
  await page.locator("input[name=password]").fill(who.password);
  await shot(page, `${name}-1-sign-in`);
  await expectNoSeriousAxe(page);
  await page.locator("button[type=submit]").click();
  await page.locator("input[name=code]").waitFor();
  let key = who.knownKey;
  if (key === undefined) {
    const secret = page.getByTestId("totp-secret");
    await page.locator("img.co-qr").waitFor();
    key = ((await secret.textContent()) ?? "").replace(/\s/g, "");
    expect(key).toMatch(/^[A-Z2-7]{16,}$/);
  }
  await shot(page, `${name}-2-${who.knownKey === undefined ? "totp-setup" : "totp"}`);
  await expectNoSeriousAxe(page);
  await page.locator("input[name=code]").fill(totpCode(key, who.knownKey === undefined ? 0 : 30_000));
  await page.locator("button[type=submit]").click();
  await page.locator(".dash-nav").waitFor();
  return key;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mpay-e2e-dashboard-"));
  const [payPort, webPort] = (await freePorts(2)) as [number, number];
  payUrl = `http://127.0.0.1:${payPort}`;
  webUrl = `http://127.0.0.1:${webPort}`;
  const built = ensureWebAppBuilt();
  // The web app's origin is the one the pay server gives CORS to (and puts in checkout URLs).
  t = await openTestPay("pglite", { checkoutBaseUrl: webUrl, publicUrl: payUrl });
  await t.app.listen({ host: "127.0.0.1", port: payPort });
  const { publicKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
  const { x, y } = await crypto.subtle.exportKey("jwk", publicKey);
  await writeFile(
    join(dir, "roots.json"),
    JSON.stringify([{ kid: "dashboard-root", jwk: { kty: "EC", crv: "P-256", x, y }, name: "Test network" }]),
  );
  await built;
  web = await startWebServer({
    host: "127.0.0.1",
    port: webPort,
    distDir: DEFAULT_DIST_DIR,
    trustedRootsFile: join(dir, "roots.json"),
    webUrl,
    payUrl,
    messengerUrl: "http://127.0.0.1:9",
    messengerWsUrl: "ws://127.0.0.1:9/api/ws",
  });
  browser = await launchBrowser();
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
  await web?.stop();
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
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
    await expect.poll(() => page.locator("tbody tr").count()).toBe(2);
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
    const context = await newParty(browser, { screen: PHONE, locale: "ko-KR" });
    const page = await context.newPage();
    await signIn(page, { ...OWNER, knownKey: ownerKey! }, "owner-ko-360");
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
