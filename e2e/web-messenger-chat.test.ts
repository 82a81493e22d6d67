/**
 * The messenger web app in a real browser against the real messenger process: two people sign up in two browser
 * contexts, become friends and chat; one goes offline, the other writes meanwhile, and the first sees it after the
 * WebSocket reconnects; a message sent while offline is delivered once after reconnecting. MPay's official chat
 * opens the wallet's pay sheet from its button, and `/open/pay/:id` signs in first and then continues there.
 * Axe finds nothing serious on sign-in, the chat list and a room at 360 px and 1280 px; screenshots are kept.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DESKTOP, expectNoSeriousAxe, launchBrowser, newParty, PHONE, shot } from "./support/browser.ts";
import { freePorts, startMessengerProcess, type MessengerProcess } from "./support/messenger-process.ts";
import { serveWebApp, type ServedWebApp } from "./support/web-app.ts";

const PASSWORD = "correct horse battery";
const unique = () => String(Math.floor(Math.random() * 9_000_000) + 1_000_000);

const WAIT_MS = 15_000;

/** Retries `check` (vitest expectations) until it passes or WAIT_MS passes: the page changes on its own time. */
async function eventually(check: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const visible = (locator: Locator) => locator.first().waitFor({ state: "visible", timeout: WAIT_MS });
const hidden = (locator: Locator) => locator.waitFor({ state: "hidden", timeout: WAIT_MS });
const text = async (locator: Locator) => (await locator.textContent({ timeout: WAIT_MS })) ?? "";
const containsText = (locator: Locator, want: string | RegExp) =>
  eventually(async () => {
    const have = await text(locator);
    if (typeof want === "string") expect(have).toContain(want);
    else expect(have).toMatch(want);
  });
const count = (locator: Locator, want: number) => eventually(async () => expect(await locator.count()).toBe(want));

interface Person {
  name: string;
  phone: string;
  context: BrowserContext;
  page: Page;
}

// Browsers, axe and a messenger process on a shared 2-core machine: a step can take seconds.
describe("messenger web app: sign-up, friends, chat, offline and back", { timeout: 180_000 }, () => {
  const clientSecret = randomBytes(32).toString("base64url");
  let dir: string;
  let messenger: MessengerProcess;
  let web: ServedWebApp;
  let browser: Browser;
  const people: Person[] = [];

  async function person(name: string, phone: string): Promise<Person> {
    const context = await newParty(browser, { screen: PHONE });
    const page = await context.newPage();
    const someone = { name, phone, context, page };
    people.push(someone);
    return someone;
  }

  async function signUp(someone: Person) {
    const { page } = someone;
    await page.goto(`${web.url}/signup`);
    await page.getByLabel("Phone number").fill(someone.phone);
    await page.getByLabel("Display name").fill(someone.name);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await visible(page.getByRole("heading", { name: "Chats" }));
  }

  /** axe and a screenshot on a phone's screen and a desktop's. */
  async function checkAxe(page: Page, name: string) {
    for (const screen of [PHONE, DESKTOP]) {
      await page.setViewportSize(screen);
      await shot(page, `${name}-${screen.width}`);
      await expectNoSeriousAxe(page);
    }
    await page.setViewportSize(PHONE);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "mpay-web-messenger-"));
    const [messengerPort, webPort] = await freePorts(2);
    const webUrl = `http://127.0.0.1:${webPort}`;
    const messengerUrl = `http://127.0.0.1:${messengerPort}`;
    [messenger, web] = await Promise.all([
      startMessengerProcess({
        MESSENGER_PORT: String(messengerPort),
        MESSENGER_DATA_DIR: join(dir, "messenger"),
        MESSENGER_PAY_CLIENT_SECRET: clientSecret,
        MPAY_WEB_URL: webUrl,
        // The history test sends 40 messages in a row; the default limit (30 per window) is tested by the messenger.
        MESSENGER_CHAT_MESSAGES_PER_WINDOW: "500",
      }),
      // The wallet is not under test here: the web app knows no pay server.
      serveWebApp({ port: Number(webPort), messengerUrl }),
    ]);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const someone of people) await someone.context.close().catch(() => undefined);
    await browser?.close();
    await web?.stop();
    await messenger?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("two people chat, and a message written while one was offline arrives once it is back", async () => {
    const ara = await person("Ara", `+8210${unique()}`);
    const bo = await person("Bo", `+8210${unique()}`);

    await ara.page.goto(web.url);
    await visible(ara.page.getByRole("heading", { name: "Sign in" }));
    await checkAxe(ara.page, "signin");

    await signUp(ara);
    await signUp(bo);
    // The session token lives in sessionStorage only: never in the address bar or the page's text.
    const token = await ara.page.evaluate(() => sessionStorage.getItem("mpay.messenger.session") ?? "");
    expect(token).toMatch(/mss_/);
    expect(ara.page.url()).not.toMatch(/mss_/);
    const araToken = /"sessionToken":"(mss_[^"]+)"/.exec(token)?.[1] ?? "";
    expect(await ara.page.content()).not.toContain(araToken);

    // Ara adds Bo by phone number and opens their direct chat.
    await ara.page.getByRole("link", { name: "Friends" }).click();
    await ara.page.getByLabel("Phone number").fill(bo.phone);
    await ara.page.getByRole("button", { name: "Add" }).click();
    await visible(ara.page.getByText("Bo is now your friend."));
    await ara.page.getByRole("button", { name: "Chat with Bo" }).click();
    await visible(ara.page.getByRole("heading", { name: "Bo" }));
    const message = ara.page.getByLabel("Message", { exact: true });
    await message.fill("Hello Bo");
    await message.press("Enter");
    const araLog = ara.page.getByRole("log");
    await visible(araLog.locator("li", { hasText: "Hello Bo" }).locator("time"));

    // Bo sees the new chat with one unread message, opens it, and answers; Ara gets it live.
    const boRow = bo.page.getByRole("link", { name: /Ara/ });
    await containsText(boRow, "Hello Bo");
    await containsText(boRow, "1 unread message");
    await boRow.click();
    const boLog = bo.page.getByRole("log");
    await containsText(boLog, "Hello Bo");
    await bo.page.getByLabel("Message", { exact: true }).fill("Hi Ara");
    await bo.page.getByRole("button", { name: "Send" }).click();
    await containsText(araLog, "Hi Ara");
    await checkAxe(bo.page, "room");

    // Ara goes offline: the quiet bar shows; Bo writes meanwhile; back online, Ara's socket resumes from its seq.
    await ara.context.setOffline(true);
    await visible(ara.page.getByText("Reconnecting…"));
    await bo.page.getByLabel("Message", { exact: true }).fill("While you were away");
    await bo.page.getByLabel("Message", { exact: true }).press("Enter");
    await visible(boLog.locator("li", { hasText: "While you were away" }).locator("time"));
    // A message Ara writes while offline waits as not sent, then goes out once (same clientMessageId) on reconnect.
    await message.fill("Written offline");
    await message.press("Enter");
    await containsText(araLog.locator("li", { hasText: "Written offline" }), /Not sent|Sending/);
    await shot(ara.page, "room-offline-360");
    await ara.context.setOffline(false);
    await containsText(araLog, "While you were away");
    await hidden(ara.page.getByText("Reconnecting…"));
    await visible(araLog.locator("li", { hasText: "Written offline" }).locator("time"));
    await count(boLog.locator("li", { hasText: "Written offline" }), 1);
    await count(araLog.locator("li", { hasText: "Written offline" }), 1);

    // Bo's list: the chat, its last message, and no unread badge while the room was open.
    await bo.page.getByRole("button", { name: "Back to chats" }).click();
    await containsText(bo.page.getByRole("link", { name: /Ara/ }), "Written offline");
    await eventually(async () =>
      expect(await text(bo.page.getByRole("link", { name: /Ara/ }))).not.toContain("unread"),
    );
    await checkAxe(bo.page, "chat-list");
  });

  it("a send whose answer is lost shows once, and a long history loads older pages as the reader scrolls up", async () => {
    const [ara, bo] = people;
    if (!ara || !bo) throw new Error("the first test signs Ara and Bo up");
    await ara.page.goto(`${web.url}/`);
    await ara.page.getByRole("link", { name: /Bo/ }).click();
    await bo.page.getByRole("link", { name: /Ara/ }).click();
    const araLog = ara.page.getByRole("log");
    await containsText(araLog, "Written offline");

    // The messenger stores the message but its answer never reaches the page (as on a dropped connection).
    let lost = 0;
    await ara.page.route("**/api/chats/*/messages", async (route) => {
      if (route.request().method() !== "POST" || lost > 0) return route.fallback();
      lost += 1;
      await route.fetch();
      await route.abort("connectionreset");
    });
    await ara.page.getByLabel("Message", { exact: true }).fill("Answer lost");
    await ara.page.getByLabel("Message", { exact: true }).press("Enter");
    await eventually(async () => expect(lost).toBe(1));
    const retry = ara.page.getByRole("button", { name: "Send again" });
    // The socket may bring the stored copy first; if the page still waits, sending again (same clientMessageId)
    // is answered with the stored message instead of a second one. The copy may also land between the look and the
    // click, taking the button away: then there is nothing to click, and the checks below still hold the page to it.
    if (await retry.isVisible()) await retry.click({ timeout: 5_000 }).catch(() => undefined);
    await visible(araLog.locator("li", { hasText: "Answer lost" }).locator("time"));
    await ara.page.unroute("**/api/chats/*/messages");
    await containsText(bo.page.getByRole("log"), "Answer lost");
    await count(araLog.locator("li", { hasText: "Answer lost" }), 1);
    await count(bo.page.getByRole("log").locator("li", { hasText: "Answer lost" }), 1);

    // Forty more messages from Bo (through the API, as another device of Bo's would send them).
    const boSession = await bo.page.evaluate(() => sessionStorage.getItem("mpay.messenger.session") ?? "{}");
    const boToken = (JSON.parse(boSession) as { sessionToken: string }).sessionToken;
    const chatId = new URL(ara.page.url()).pathname.split("/").at(-1) ?? "";
    for (let n = 1; n <= 40; n++) {
      const sent = await fetch(`${messenger.url}/api/chats/${chatId}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${boToken}` },
        body: JSON.stringify({ clientMessageId: `history-${n}-${unique()}`, text: `History ${n}` }),
      });
      expect(sent.status).toBe(201);
    }
    await containsText(araLog, "History 40");
    // A fresh tab holds only the newest page; scrolling to the top brings the older ones, in order.
    await ara.page.reload();
    await containsText(araLog, "History 40");
    expect(await text(araLog)).not.toContain("Hello Bo");
    await eventually(async () => {
      await ara.page.getByRole("region", { name: "Messages" }).evaluate((element) => element.scrollTo(0, 0));
      expect(await text(araLog)).toContain("Hello Bo");
    });
    await visible(ara.page.getByText("This is the beginning of the chat."));
    const bubbles = await araLog.locator("li").allTextContents();
    const order = ["Hello Bo", "Hi Ara", "While you were away", "History 1", "History 40"].map((want) =>
      bubbles.findIndex((bubble) => bubble.includes(want)),
    );
    expect(order.every((index, i) => index >= 0 && (i === 0 || index > (order[i - 1] ?? -1)))).toBe(true);
  });

  it("three people make a group chat with a title, and each member sees who wrote", async () => {
    const [ara, bo] = people;
    if (!ara || !bo) throw new Error("the first test signs Ara and Bo up");
    const cy = await person("Cy", `+8210${unique()}`);
    await signUp(cy);
    await ara.page.goto(`${web.url}/friends`);
    await ara.page.getByLabel("Phone number").fill(cy.phone);
    await ara.page.getByRole("button", { name: "Add" }).click();
    await visible(ara.page.getByText("Cy is now your friend."));
    await ara.page.getByLabel("Group name").fill("Weekend");
    await ara.page.getByRole("checkbox", { name: "Bo" }).check();
    await ara.page.getByRole("checkbox", { name: "Cy" }).check();
    await ara.page.getByRole("button", { name: "Create group" }).click();
    await visible(ara.page.getByRole("heading", { name: /Weekend/ }));
    await ara.page.getByLabel("Message", { exact: true }).fill("Group hello");
    await ara.page.getByLabel("Message", { exact: true }).press("Enter");

    for (const member of [bo, cy]) {
      await member.page.goto(`${web.url}/`);
      const row = member.page.getByRole("link", { name: /Weekend/ });
      await containsText(row, "Group hello");
      await row.click();
      await containsText(member.page.getByRole("log"), "Ara");
    }
    await cy.page.getByLabel("Message", { exact: true }).fill("Cy here");
    await cy.page.getByLabel("Message", { exact: true }).press("Enter");
    await containsText(ara.page.getByRole("log"), "Cy here");
    await containsText(bo.page.getByRole("log"), "Cy here");
    await shot(cy.page, "group-room-360");
  });

  it("Korean readers get the texts in Korean", async () => {
    const context = await newParty(browser, { screen: PHONE, locale: "ko-KR" });
    try {
      const page = await context.newPage();
      await page.goto(`${web.url}/signin`);
      await visible(page.getByRole("heading", { name: "로그인" }));
      await visible(page.getByLabel("전화번호"));
      await shot(page, "signin-ko-360");
    } finally {
      await context.close();
    }
  });

  it("MPay's message opens the wallet's pay sheet, and /open/pay signs in first, then continues there", async () => {
    const [ara] = people;
    if (!ara) throw new Error("the first test signs Ara up");
    const session = await ara.page.evaluate(() => sessionStorage.getItem("mpay.messenger.session") ?? "{}");
    const accountId = (JSON.parse(session) as { account: { id: string } }).account.id;
    const sent = await fetch(`${messenger.url}/api/official/mpay/messages`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Basic ${Buffer.from(`mpay-pay:${clientSecret}`).toString("base64")}`,
      },
      body: JSON.stringify({
        id: `ann_${unique()}`,
        to: accountId,
        kind: "payment_request",
        // The pay server's plain text (for other clients), and the facts the app writes in the reader's language.
        text: 'Ddeok Mall에서 "Rice cake set" 35,000원 결제를 요청했습니다. 확인 코드 K7P2.\nDdeok Mall asks 35,000원 (₩35,000) for "Rice cake set". Code K7P2.',
        actions: [{ label: "Pay", action: "mpay:pay/pay_test123" }],
        params: {
          merchantName: "Ddeok Mall",
          itemName: "Rice cake set",
          amount: 35000,
          currency: "KRW",
          pairingCode: "K7P2",
        },
        createdAt: new Date().toISOString(),
      }),
    });
    expect(sent.status).toBe(201);

    await ara.page.goto(`${web.url}/`);
    // A reload keeps the tab's session (sessionStorage), and the MPay chat comes first with its unread badge.
    const mpayRow = ara.page.getByRole("link", { name: /MPay official account/ });
    await containsText(mpayRow, "1 unread message");
    await containsText(ara.page.getByRole("listitem").first(), "MPay");
    await mpayRow.click();
    await containsText(ara.page.getByRole("log"), 'Ddeok Mall asks ₩35,000 for "Rice cake set". Code K7P2.');
    expect(await text(ara.page.getByRole("log"))).not.toContain("결제를 요청했습니다");
    await shot(ara.page, "mpay-chat-360");
    await ara.page.getByRole("button", { name: "Pay" }).click();
    await ara.page.waitForURL(`${web.url}/wallet/pay/pay_test123`, { timeout: WAIT_MS });

    // The wallet tab in the bottom bar.
    await ara.page.goto(`${web.url}/`);
    await ara.page.getByRole("link", { name: "Open the MPay wallet" }).click();
    await ara.page.waitForURL(`${web.url}/wallet`, { timeout: WAIT_MS });

    // The checkout's QR on a signed-out phone: sign in first, then the pay sheet.
    const phone = await newParty(browser, { screen: PHONE });
    try {
      const page = await phone.newPage();
      await page.goto(`${web.url}/open/pay/pay_fromqr42`);
      await page.waitForURL(`${web.url}/signin`, { timeout: WAIT_MS });
      await visible(page.getByText("Sign in to continue to the payment."));
      await page.getByLabel("Phone number").fill(ara.phone);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${web.url}/wallet/pay/pay_fromqr42`, { timeout: WAIT_MS });
      // Signed in already: straight there.
      await page.goto(`${web.url}/open/pay/pay_again77`);
      await page.waitForURL(`${web.url}/wallet/pay/pay_again77`, { timeout: WAIT_MS });
    } finally {
      await phone.close();
    }
  });
});
