/**
 * Driving the web wallet (apps/web/src/wallet) in a real browser, as a payer does: a messenger account, the wallet's
 * sign-in on the messenger's own login page, the shuffled PIN pad by its buttons or by typed digits, the card form
 * with the one-time code from the issuer simulator's test inbox; a checkout's push to the payer's number and the
 * request it brings to the messenger app's MPay chat. Also an axe check (no serious or critical violation) and
 * screenshots under a folder the test names.
 */
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { codeFromTestInbox } from "../../scripts/demo/issuer.ts";
import { createMessengerAccount } from "../../scripts/demo/messenger.ts";
import type { TestCard } from "../../scripts/demo/test-cards.ts";
import { DESKTOP, expectNoSeriousAxe } from "./browser.ts";

/** A payer's messenger account: the number and password the test signs in with. */
export interface Payer {
  phoneNumber: string;
  password: string;
  displayName: string;
}

/** The services a payer's phone talks to (npm-start.ts's SystemUrls has them). */
export interface PayerUrls {
  web: string;
  messenger: string;
  issuer: string;
}

/** A card as the wallet's form takes it, and where its issuer texts the one-time code (its test inbox). */
export type CardToAdd = Pick<TestCard, "issuerId" | "pan" | "expiry" | "cvc" | "phone">;

/** A new messenger account with a fresh Korean mobile number (+82 10…) and a password of its own. */
export async function newPayer(messengerUrl: string, displayName: string): Promise<Payer> {
  const phoneNumber = `+8210${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`;
  const payer = { phoneNumber, displayName, password: `payer-${randomUUID()}` };
  await createMessengerAccount(messengerUrl, payer);
  return payer;
}

/** The number as people in Korea type it: +82 10XXXXXXXX → 010-XXXX-XXXX. */
export function localNumber(phoneNumber: string): string {
  const local = phoneNumber.slice(3);
  return `0${local.slice(0, 2)}-${local.slice(2, 6)}-${local.slice(6)}`;
}

/**
 * After "Continue with messenger": the messenger's own login page as the payer fills it in (and its consent page, if
 * it shows one), until the browser is back in the web app.
 */
export async function signInAtMessenger(page: Page, urls: Pick<PayerUrls, "web" | "messenger">, payer: Payer) {
  await page.waitForURL((url) => url.origin === urls.messenger, { timeout: 60_000 });
  await page.locator("#phone").fill(payer.phoneNumber);
  await page.locator("#password").fill(payer.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  const allow = page.getByRole("button", { name: "Allow" });
  await Promise.race([
    page.waitForURL((url) => url.origin === urls.web, { timeout: 60_000 }),
    allow.waitFor({ timeout: 60_000 }).then(() => allow.click()),
  ]);
}

/** The first PIN of a freshly bound device: clicked on the first pad, typed on the second (shuffled anew). */
export async function choosePin(page: Page, pin: string): Promise<void> {
  await page.getByRole("heading", { name: "Choose a 6-digit PIN" }).waitFor({ timeout: 120_000 });
  await enterPin(page, pin, "click");
  await page.getByRole("heading", { name: "Enter the PIN again" }).waitFor();
  await enterPin(page, pin, "keyboard");
}

/** Fills the card form that is on screen; `holderName` is the optional name on the card. */
export async function fillCardForm(page: Page, card: CardToAdd, holderName?: string): Promise<void> {
  await page.getByLabel("Card number").waitFor({ timeout: 120_000 });
  await page.getByLabel("Card number").fill(card.pan);
  await page.getByLabel("Expiry").fill(card.expiry);
  await page.getByLabel("CVC").fill(card.cvc);
  if (holderName !== undefined) await page.getByLabel("Name on card (optional)").fill(holderName);
}

/**
 * Sends the filled card form and confirms it with the one-time code its issuer "texted" (the test inbox);
 * `onCodeStep` runs on the code's screen before it is filled (a screenshot). Waits for nothing after Confirm.
 */
export async function confirmCardWithCode(
  page: Page,
  issuerUrl: string,
  card: CardToAdd,
  onCodeStep?: () => Promise<void>,
): Promise<void> {
  const since = new Date();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByLabel("One-time code").waitFor({ timeout: 120_000 });
  await onCodeStep?.();
  await page.getByLabel("One-time code").fill(await codeFromTestInbox(issuerUrl, card.phone, card.issuerId, since));
  await page.getByRole("button", { name: "Confirm" }).click();
}

/** Adds a card from Cards → Add a card, until the wallet says it is ready to pay. */
export async function addCard(page: Page, urls: Pick<PayerUrls, "web" | "issuer">, card: CardToAdd): Promise<void> {
  await page.goto(`${urls.web}/wallet/cards/new`);
  await fillCardForm(page, card);
  await confirmCardWithCode(page, urls.issuer, card);
  await page.getByText(`Card ending ${card.pan.slice(-4)} is ready to pay.`).waitFor({ timeout: 120_000 });
}

/**
 * The payer's phone made ready to pay, as a newcomer does it: the wallet signed in with the messenger, the device
 * bound, the PIN chosen and, with `card`, that card added (the wallet goes from sign-in straight to the card form).
 */
export async function onboardPayer(
  page: Page,
  urls: PayerUrls,
  payer: Payer,
  pin: string,
  card?: CardToAdd,
): Promise<void> {
  await page.goto(`${urls.web}/wallet${card ? "/cards/new" : ""}`);
  await page.getByRole("button", { name: "Continue with messenger" }).click({ timeout: 60_000 });
  await signInAtMessenger(page, urls, payer);
  await choosePin(page, pin);
  if (!card) {
    await page.getByText(`Hello, ${payer.displayName}`).waitFor({ timeout: 120_000 });
    return;
  }
  await fillCardForm(page, card);
  await confirmCardWithCode(page, urls.issuer, card);
  await page.getByText("Ready to pay on this device").waitFor({ timeout: 120_000 });
}

/**
 * On a hosted checkout (a shopper's screen): sends the payment to the payer's number, typed as people in Korea
 * know it, and waits for the page to say where it went. Answers the pairing code the page shows.
 */
export async function pushToPayer(checkout: Page, phoneNumber: string): Promise<string> {
  const pairingCode = (await checkout.locator(".co-pairing-code").textContent({ timeout: 60_000 })) ?? "";
  await checkout.getByLabel("Mobile number").fill(localNumber(phoneNumber));
  await checkout.getByRole("button", { name: "Send request" }).click();
  await checkout.locator(".co-notice-success").waitFor({ timeout: 60_000 });
  return pairingCode;
}

/**
 * On the payer's phone: the messenger app signed in, its MPay chat opened, and the payment request there that
 * carries `pairingCode` (its Pay button opens the wallet's pay sheet).
 */
export async function requestInMPayChat(
  page: Page,
  webUrl: string,
  payer: Payer,
  pairingCode: string,
): Promise<Locator> {
  await page.goto(`${webUrl}/`);
  await page.getByLabel("Phone number").fill(payer.phoneNumber);
  await page.getByLabel("Password").fill(payer.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  const mpayChat = page.getByRole("link", { name: /MPay official account/ });
  await mpayChat.waitFor({ timeout: 60_000 });
  await mpayChat.click();
  const request = page.getByRole("log").locator("li", { hasText: pairingCode });
  await request.waitFor({ timeout: 60_000 });
  return request;
}

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
