/**
 * The test inbox as a page (issue 9, item 8): what a browser gets at the JSON inbox's URL, escaped, under a CSP that
 * allows no script, refreshed by a meta tag; scripts keep the JSON; and no page at all when the test inbox is off.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InboxMessage } from "../host.ts";
import { testCard } from "../cards/test-cards.ts";
import { TestDevice } from "../testing/device.ts";
import { latestCode, startEnrollment } from "../testing/flows.ts";
import { openTestHost, type TestHost } from "../testing/host.ts";
import { inboxPage, wantsPage } from "./page.ts";

/** What Chromium and Firefox send for a page. */
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

function inboxOf(host: TestHost, phone: string, accept = BROWSER_ACCEPT): Promise<Response> {
  return fetch(`${host.url}/test-inbox?phone=${encodeURIComponent(phone)}`, { headers: { accept } });
}

/** The page's CSP allows its one stylesheet by hash, and nothing that runs. */
function expectStrictCsp(response: Response, body: string): void {
  const csp = response.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toMatch(/unsafe|script-src/);
  const style = /<style>([\s\S]*?)<\/style>/.exec(body)?.[1] ?? "";
  expect(csp).toContain(`style-src 'sha256-${createHash("sha256").update(style).digest("base64")}'`);
  expect(body).not.toMatch(/<script|\son\w+=/i);
  expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(response.headers.get("cache-control")).toBe("no-store");
  expect(response.headers.get("referrer-policy")).toBe("no-referrer");
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
}

describe("the test inbox page, as rendered", () => {
  const hostile: InboxMessage = {
    issuerId: "kstar",
    issuerName: `<img src=x onerror=alert(1)>`,
    code: `"><script>alert(2)</script>`,
    text: `Your code is <b>123456</b> & 'never' share it`,
    sentAt: "2026-12-03T23:40:12.000Z",
    expiresAt: "2026-12-03T23:45:12.000Z",
  };

  it("escapes every value it shows", () => {
    const html = inboxPage("+821055520001", [hostile], new Date("2026-12-03T23:41:00Z"));
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<b>");
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;");
    expect(html).toContain("Your code is &lt;b&gt;123456&lt;/b&gt; &amp; &#39;never&#39; share it");
  });

  it("tells a live code from an expired one by the simulator's clock", () => {
    expect(inboxPage("+821055520001", [hostile], new Date("2026-12-03T23:41:00Z"))).toContain(
      "valid until 23:45:12 UTC",
    );
    const later = inboxPage("+821055520001", [hostile], new Date("2026-12-03T23:45:12Z"));
    expect(later).toContain('<li class="expired">');
    expect(later).not.toContain("valid until");
  });

  it("is what a browser asks for; fetch, curl and JSON clients keep the JSON", () => {
    expect(wantsPage(BROWSER_ACCEPT)).toBe(true);
    expect(wantsPage("text/html")).toBe(true);
    for (const accept of [undefined, "*/*", "application/json", "application/json, text/html"])
      expect(wantsPage(accept)).toBe(false);
  });
});

describe("the test inbox page, served by the issuer host [pglite]", () => {
  let host: TestHost;
  const card = testCard("kstar", "approves");
  beforeAll(async () => {
    host = await openTestHost("pglite", { issuers: ["kstar"] });
  });
  afterAll(async () => {
    await host?.close();
  });

  it("lists the codes sent to the phone, newest first, refreshing itself, under a CSP with no script", async () => {
    const empty = await inboxOf(host, card.phone);
    const emptyBody = await empty.text();
    expect(empty.status).toBe(200);
    expectStrictCsp(empty, emptyBody);
    expect(emptyBody).toContain('<meta http-equiv="refresh" content="5">');
    expect(emptyBody).toContain("No messages yet");
    // It says what it is, in English and Korean.
    expect(emptyBody).toContain("standing in for the cardholder's phone");
    expect(emptyBody).toContain('<span lang="ko">');

    const device = await TestDevice.create();
    expect((await startEnrollment(host, "kstar", device, card)).status).toBe(201);
    const first = await latestCode(host, card.phone);
    expect((await startEnrollment(host, "kstar", device, card)).status).toBe(201);
    const second = await latestCode(host, card.phone);

    const listed = await inboxOf(host, "+82 10-5552-0001");
    const body = await listed.text();
    expect(listed.status).toBe(200);
    expectStrictCsp(listed, body);
    expect(body).toContain("Test inbox of +821055520001");
    const codes = [...body.matchAll(/<div class="code">(\d+)<\/div>/g)].map((match) => match[1]);
    expect(codes).toEqual([second, first]);
    expect(body).toContain("KStar Card");
    expect(body).toContain("card ending 0012");
    expect(body).toContain("valid until");

    host.clock.advance(3600);
    expect(await (await inboxOf(host, card.phone)).text()).not.toContain("valid until");
  });

  it("keeps the JSON for scripts at the same URL", async () => {
    for (const accept of ["*/*", "application/json"]) {
      const response = await inboxOf(host, card.phone, accept);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(response.headers.get("vary")).toMatch(/accept/i);
      expect(await response.json()).toMatchObject({ phone: card.phone, messages: expect.any(Array) });
    }
  });

  it("offers a phone field without a phone, and refuses one that is not a number without echoing it", async () => {
    const ask = await fetch(`${host.url}/test-inbox`, { headers: { accept: BROWSER_ACCEPT } });
    const askBody = await ask.text();
    expect(ask.status).toBe(200);
    expectStrictCsp(ask, askBody);
    expect(askBody).toContain('<form method="get" action="/test-inbox">');
    expect(askBody).not.toContain('http-equiv="refresh"');

    const wrong = await inboxOf(host, "<b>call-me</b>");
    const wrongBody = await wrong.text();
    expect(wrong.status).toBe(400);
    expectStrictCsp(wrong, wrongBody);
    expect(wrongBody).toContain("Not a phone number");
    expect(wrongBody).not.toMatch(/call-me/);
  });
});

describe("the test inbox page when the test inbox is off [pglite]", () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await openTestHost("pglite", { issuers: ["kstar"], overrides: { testInbox: false } });
  });
  afterAll(async () => {
    await host?.close();
  });

  it("is not there: a browser gets the JSON 404 of a route that does not exist", async () => {
    for (const url of [`${host.url}/test-inbox?phone=%2B821055520001`, `${host.url}/test-inbox`]) {
      const response = await fetch(url, { headers: { accept: BROWSER_ACCEPT } });
      expect(response.status).toBe(404);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await response.json()).toMatchObject({ error: { code: "route_not_found" } });
    }
  });
});
