/**
 * Driving the web wallet (apps/web/src/wallet) in a real browser, as a payer does: the shuffled PIN pad by its
 * buttons or by typed digits, the card form, the one-time code from the issuer simulator's test inbox. Also an axe
 * check (no serious or critical violation) and screenshots under a folder the test names.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { DESKTOP, expectNoSeriousAxe } from "./browser.ts";

/** The digits of the PIN pad in screen order (left to right, top to bottom). */
export async function padLayout(page: Page): Promise<string[]> {
  return page
    .locator(".pin-keys button")
    .evaluateAll((buttons) => buttons.map((b) => b.textContent ?? "").filter((text) => /^[0-9]$/.test(text)));
}

/** Types the PIN on the pad: by clicking each digit's button wherever it is, or with the keyboard. */
export async function enterPin(page: Page, pin: string, how: "click" | "keyboard" = "click"): Promise<void> {
  await page.locator(".pin-keys").waitFor();
  for (const digit of pin) {
    if (how === "keyboard") await page.keyboard.press(digit);
    else await page.locator(".pin-keys button", { hasText: new RegExp(`^${digit}$`) }).click();
  }
}

/** A screenshot at the current viewport, and axe at 360 px and 1280 px wide. */
export function screens(folder: string) {
  return async (page: Page, name: string, options: { axe?: boolean } = {}): Promise<void> => {
    await mkdir(folder, { recursive: true });
    const size = page.viewportSize() ?? { width: 360, height: 740 };
    await page.screenshot({ path: join(folder, `${name}-${size.width}.png`), fullPage: true });
    if (options.axe === false) return;
    await expectNoSeriousAxe(page);
    await page.setViewportSize(DESKTOP);
    await page.screenshot({ path: join(folder, `${name}-1280.png`), fullPage: true });
    await expectNoSeriousAxe(page);
    await page.setViewportSize(size);
  };
}
