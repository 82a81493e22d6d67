/**
 * The operator console in a real browser (issue 10, deliverable 4): Debian's Chromium through playwright-core,
 * against a pay server listening on a port (the test's own, PGlite) and the web app's own server serving the
 * production build, on two origins as in production (CORS for exactly the web app's origin).
 * - An admin (made through the staff service with a known password, as `mpay staff add` makes one) signs in with
 *   the password and sets up TOTP from the page: the test reads the key the page shows and computes the code with
 *   otpauth, as an authenticator app would.
 * - The admin sees the test merchant, creates one (its test keys shown once), suspends it behind a confirmation —
 *   and the pay server then refuses its secret key with 403 `merchant_suspended` — sees the vault's state and
 *   verifies the audit log.
 * - At 1280 px (English) and 360 px (Korean): screenshots under test-artifacts/web-console/, axe finds no serious or critical violation.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Secret } from "@mpay/protocol";
import type { TestPay } from "../services/pay/src/testing/system.ts";
import { DESKTOP, expectNoSeriousAxe, launchBrowser, newParty, PHONE, shot } from "./support/browser.ts";
import { signInWithTotp } from "./support/dashboard-pages.ts";
import { openPayWithWebApp, type PayWithWebApp } from "./support/pay-system.ts";

const ADMIN = { email: "ops-admin@mpay.example", password: "staff horse battery staple", name: "Seo-yeon Park" };

let served: PayWithWebApp | undefined;
let t: TestPay;
let browser: Browser;
let payUrl: string;
let webUrl: string;
let adminKey: string | undefined;

/**
 * The admin's sign-in: the key the page shows is set up the first time (kept for the next), the known key's next
 * code after (a code's time step is accepted once). Each screen shot and checked by axe.
 */
async function signIn(page: Page, name: string, heading = "Operations"): Promise<void> {
  const first = adminKey === undefined;
  adminKey = await signInWithTotp(
    page,
    `${webUrl}/console`,
    { ...ADMIN, totpSecret: adminKey },
    {
      aheadMs: first ? 0 : 30_000,
      onScreen: async (screen) => {
        await shot(page, `${name}-${screen === "password" ? "1-sign-in" : `2-${screen}`}`);
        await expectNoSeriousAxe(page);
      },
    },
  );
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
}

beforeAll(async () => {
  [served, browser] = await Promise.all([openPayWithWebApp(), launchBrowser()]);
  ({ t, payUrl, webUrl } = served);
  await t.system.staff.create({ ...ADMIN, role: "admin", actor: "operator:e2e", password: new Secret(ADMIN.password) });
}, 420_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

describe("the operator console [pglite]", () => {
  it("lets an admin sign in with TOTP, create a merchant, suspend it, see the vault and verify the audit log", async () => {
    const context = await newParty(browser, { screen: DESKTOP });
    const page = await context.newPage();
    await signIn(page, "admin");

    const merchants = page.getByTestId("console-merchants");
    await merchants.getByText("Test Shop").waitFor();
    await expect.poll(() => page.getByTestId("vault-state").textContent()).toBe("Unsealed");
    await shot(page, "admin-3-console-1280");
    await expectNoSeriousAxe(page);

    // Create a merchant: its test keys are shown once.
    await page.getByRole("button", { name: "Create merchant" }).click();
    await page.locator("input[name=merchant-name]").fill("Corner Cafe");
    await page.locator("textarea[name=merchant-origins]").fill("https://cafe.example");
    await shot(page, "admin-4-create-1280");
    await expectNoSeriousAxe(page);
    await page.locator("dialog").getByRole("button", { name: "Create merchant" }).click();
    const created = page.getByTestId("merchant-created");
    await created.waitFor();
    const secretKey = ((await created.locator(".dash-secret-value").first().textContent()) ?? "").trim();
    expect(secretKey).toMatch(/^sk_test_/);
    const row = merchants.locator("tr", { hasText: "Corner Cafe" });
    await row.getByText("Active").waitFor();
    const id = ((await row.locator(".dash-cell-mono").textContent()) ?? "").trim();
    expect(id).toMatch(/^mch_/);
    const before = await fetch(`${payUrl}/v1/payments`, { headers: { authorization: `Bearer ${secretKey}` } });
    expect(before.status).toBe(200);

    // Suspend it, behind a confirmation: its key is refused from then on.
    await row.getByRole("button", { name: /^Suspend/ }).click();
    await page.locator("dialog").getByRole("heading", { name: "Suspend Corner Cafe?" }).waitFor();
    await shot(page, "admin-5-suspend-1280");
    await expectNoSeriousAxe(page);
    await page.locator("dialog").getByRole("button", { name: "Suspend" }).click();
    await row.getByText("Suspended").waitFor();
    const after = await fetch(`${payUrl}/v1/payments`, { headers: { authorization: `Bearer ${secretKey}` } });
    expect(after.status).toBe(403);
    expect(((await after.json()) as { error: { code: string } }).error.code).toBe("merchant_suspended");

    // The audit log verifies.
    await page.getByRole("button", { name: "Verify now" }).click();
    await expect.poll(() => page.getByTestId("audit-result").textContent()).toMatch(/^Intact: \d+ entries/);
    await shot(page, "admin-6-verified-1280");
    await expectNoSeriousAxe(page);

    const audit = await t.system.audit.verify();
    expect(audit.ok).toBe(true);
    await context.close();
  });

  it("shows the same console on a phone (360 px), in Korean", async () => {
    const context = await newParty(browser, { screen: PHONE, locale: "ko-KR" });
    const page = await context.newPage();
    await signIn(page, "phone", "운영");
    await page.getByTestId("console-merchants").getByText("Corner Cafe").waitFor();
    await page.getByTestId("console-merchants").getByText("정지됨").waitFor();
    await expect.poll(() => page.getByTestId("vault-state").textContent()).toBe("봉인 해제됨");
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(360);
    await shot(page, "phone-3-console-360");
    await expectNoSeriousAxe(page);
    await context.close();
  });
});
