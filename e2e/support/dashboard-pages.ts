/**
 * Signing in to the merchant dashboard (/dashboard) and the operator console (/console) in a real browser, as
 * their users do: email and password, then the authenticator app's 6-digit code (computed here with otpauth, as
 * the app would), set up from the key the page shows the first time; or, on the dashboard, a passkey.
 */
import { Secret as OtpSecret, TOTP } from "otpauth";
import type { Page } from "playwright-core";
import { expect } from "vitest";

/** The code an authenticator app shows for a key (RFC 6238: SHA-1, 6 digits, 30 s), `aheadMs` from now. */
export function totpCode(base32: string, aheadMs = 0): string {
  return new TOTP({ algorithm: "SHA1", digits: 6, period: 30, secret: OtpSecret.fromBase32(base32) }).generate({
    timestamp: Date.now() + aheadMs,
  });
}

export interface TotpSignIn {
  email: string;
  password: string;
  /** The authenticator's key when it is set up already; undefined: set it up from the key the page shows. */
  totpSecret?: string;
}

/** Where a screen of the sign-in is: for a screenshot and axe between the steps. */
export type SignInScreen = "password" | "totp" | "totp-setup";

/**
 * Opens `url` (the dashboard's or the console's) and signs in with the password, then the code: of the known key
 * (none is shown: the page asks for the code only), or of the key the page shows once for setting up. A code's time
 * step is accepted once, so a later sign-in of the same user passes `aheadMs: 30_000` (the server accepts one step
 * either side of now). Answers the key. The caller waits for what the signed-in page shows.
 */
export async function signInWithTotp(
  page: Page,
  url: string,
  who: TotpSignIn,
  options: { aheadMs?: number; onScreen?: (screen: SignInScreen) => Promise<void> } = {},
): Promise<string> {
  await page.goto(url);
  await page.locator("input[name=email]").fill(who.email);
  await page.locator("input[name=password]").fill(who.password);
  await options.onScreen?.("password");
  await page.locator("button[type=submit]").click();
  await page.locator("input[name=code]").waitFor({ timeout: 60_000 });
  let key = who.totpSecret;
  if (key === undefined) {
    await page.locator("img.co-qr").waitFor();
    key = ((await page.getByTestId("totp-secret").textContent()) ?? "").replace(/\s/g, "");
    expect(key).toMatch(/^[A-Z2-7]{16,}$/);
  } else {
    expect(await page.getByTestId("totp-secret").count(), "a user with an authenticator is shown no new key").toBe(0);
  }
  await options.onScreen?.(who.totpSecret === undefined ? "totp-setup" : "totp");
  await page.locator("input[name=code]").fill(totpCode(key, options.aheadMs ?? 0));
  await page.locator("button[type=submit]").click();
  return key;
}

/** The dashboard's "Sign in with a passkey" (the page's authenticator answers; see browser.ts). */
export async function signInWithPasskey(page: Page, dashboardUrl: string): Promise<void> {
  await page.goto(dashboardUrl);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
}
