/**
 * A real browser for the web app's tests: Debian's Chromium through playwright-core (never a downloaded browser),
 * headless. Each party (a shopper at a desktop, a payer on a phone) gets a context of its own: its own cookies and
 * storage, its own screen. `shot` keeps screenshots under test-artifacts/<test file>/ for people to look at;
 * `expectNoSeriousAxe` runs axe-core on the page as it is and fails on a serious or critical violation;
 * `addVirtualAuthenticator` gives a page a passkey authenticator of its own (Chromium's CDP WebAuthn domain).
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AxeBuilder } from "@axe-core/playwright";
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from "playwright-core";
import { expect } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The real binary first: /usr/bin/chromium is a shell wrapper that prints a warning on every start. */
const CHROMIUM = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"];

export const PHONE = { width: 360, height: 780 } as const;
export const DESKTOP = { width: 1280, height: 800 } as const;

export function chromiumPath(): string {
  const found = CHROMIUM.find((path) => existsSync(path));
  if (!found)
    throw new Error(
      `no Chromium at ${CHROMIUM.join(" or ")}: install Debian's (apt-get install chromium; .ci/run does)`,
    );
  return found;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

export interface PartyOptions {
  /** PHONE or DESKTOP. */
  screen: { width: number; height: number };
  /** The browser's language (`ko-KR`, `en-US`): the app follows navigator.languages. */
  locale?: string;
}

/** A new context: a phone screen is a touch device too, as the checkout asks (pointer: coarse). */
export function newParty(browser: Browser, options: PartyOptions): Promise<BrowserContext> {
  const phone = options.screen.width <= 600;
  return browser.newContext({
    viewport: options.screen,
    locale: options.locale ?? "en-US",
    hasTouch: phone,
    isMobile: phone,
    deviceScaleFactor: phone ? 2 : 1,
  });
}

/** The test file's name without `.test.ts`: its screenshots' folder. */
function testFolder(): string {
  const path = expect.getState().testPath ?? "unknown";
  return basename(path).replace(/\.test\.ts$/, "");
}

/** Saves a full-page screenshot as test-artifacts/<test file>/<name>.png (gitignored); answers its path. */
export async function shot(page: Page, name: string): Promise<string> {
  const dir = join(ROOT, "test-artifacts", testFolder());
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: "disabled" });
  return path;
}

/** axe-core (WCAG 2.x A and AA rules and best practices) on the page: no serious or critical violation. */
export async function expectNoSeriousAxe(page: Page): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const serious = violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => ({
      rule: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => node.target.join(" ")),
    }));
  expect(serious, `axe on ${page.url()} at ${page.viewportSize()?.width} px`).toEqual([]);
}

export interface VirtualAuthenticator {
  cdp: CDPSession;
  authenticatorId: string;
  /** Each passkey it holds: its signature counter, in the authenticator's order. */
  signCounts(): Promise<number[]>;
  /** The device stops (or starts again) confirming it is its owner: fingerprint, face or screen lock. */
  setUserVerified(verified: boolean): Promise<void>;
  /**
   * A discoverable passkey for `rpId` made outside any registration (a fresh P-256 key the server never saw),
   * carrying `userHandle` (the user id a genuine one of that user would carry).
   */
  importPasskey(rpId: string, userHandle: string): Promise<void>;
}

/**
 * The device's authenticator for `page`'s tab: a platform one (`internal`) with user verification, that answers by
 * itself (no dialog to click), so the real WebAuthn ceremonies run end to end.
 */
export async function addVirtualAuthenticator(page: Page): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
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
  return {
    cdp,
    authenticatorId,
    async signCounts() {
      const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      return credentials.map((credential) => credential.signCount);
    },
    async setUserVerified(verified) {
      await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: verified });
    },
    async importPasskey(rpId, userHandle) {
      const { privateKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
      const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", privateKey));
      await cdp.send("WebAuthn.addCredential", {
        authenticatorId,
        credential: {
          credentialId: Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64"),
          isResidentCredential: true,
          rpId,
          privateKey: pkcs8.toString("base64"),
          userHandle: Buffer.from(userHandle).toString("base64"),
          signCount: 0,
        },
      });
    },
  };
}
