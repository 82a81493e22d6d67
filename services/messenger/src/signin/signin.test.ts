/**
 * Sign-in through the real provider over real HTTP, with openid-client as the relying party and a cookie-keeping
 * fetch as the browser: the whole authorization code flow with PKCE, and every way it must fail.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as client from "openid-client";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { Browser, readForm } from "../testing/browser.ts";
import { testBackends } from "../testing/databases.ts";
import {
  openTestMessenger,
  PAY_REDIRECT,
  SHOP_CLIENT_ID,
  SHOP_NAME,
  SHOP_REDIRECT,
  type TestMessenger,
} from "../testing/messenger.ts";
import {
  authorizationRequest,
  createAccount,
  exchange,
  relyingParty,
  signInThroughBrowser,
  type RelyingParty,
  type TestAccount,
} from "../testing/rp.ts";
import { PAY_CLIENT_ID } from "../config.ts";

const PER_PHONE = 3;

describe.each(testBackends())("sign-in through the OpenID Connect provider [%s]", (backend) => {
  let messenger: TestMessenger;
  let pay: RelyingParty;
  let account: TestAccount;
  /** Secrets that appeared during the tests; none may be in a log line. */
  const secrets: string[] = [];

  beforeAll(async () => {
    messenger = await openTestMessenger(backend, {
      overrides: {
        loginLimits: { perPhone: PER_PHONE, perIp: 1000, windowSeconds: 900 },
        signupRateLimitPerMinute: 1000,
      },
    });
    pay = await relyingParty(messenger.issuer, PAY_CLIENT_ID, messenger.paySecret, PAY_REDIRECT);
    account = await createAccount(messenger.url, "Kim Minji");
    secrets.push(messenger.paySecret, messenger.shopSecret, account.password);
  });
  afterAll(async () => {
    await messenger?.close();
  });

  it("signs in: discovery, PKCE S256 + state + nonce, the login form, the code exchange, a valid ID token", async () => {
    expect(pay.config.serverMetadata()).toMatchObject({
      issuer: messenger.issuer,
      code_challenge_methods_supported: ["S256"],
      response_types_supported: ["code"],
      scopes_supported: ["openid", "profile", "phone"],
    });
    const browser = new Browser();
    const pending = await authorizationRequest(pay);

    // The authorization request lands on the messenger's own login page, inside an interaction.
    const opened = await browser.open(pending.url, PAY_REDIRECT);
    expect(opened.page?.status).toBe(200);
    expect(opened.page?.url).toMatch(new RegExp(`^${messenger.url}/interaction/[\\w-]+$`));
    expect(opened.page?.headers.get("content-security-policy")).toContain("default-src 'none'");
    // Not no-referrer: browsers would then send `Origin: null` on the login post, which the form refuses.
    expect(opened.page?.headers.get("referrer-policy")).toBe("same-origin");
    const form = readForm(opened.page!.body, /\/login$/);
    expect(Object.keys(form.fields).sort()).toEqual(["password", "phone"]);

    const submitted = await browser.submit(
      opened.page!,
      form,
      { phone: account.phoneNumber, password: account.password },
      PAY_REDIRECT,
    );
    expect(submitted.response.status).toBe(303);
    const callback = submitted.callback!;
    expect(callback.searchParams.get("state")).toBe(pending.state);
    expect(callback.searchParams.get("iss")).toBe(messenger.issuer);
    const code = callback.searchParams.get("code")!;
    expect(code).toBeTruthy();

    const tokens = await exchange(pay, pending, callback);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: messenger.issuer,
      aud: PAY_CLIENT_ID,
      sub: account.id,
      name: "Kim Minji",
      phone_number: account.phoneNumber,
      phone_number_verified: true,
      nonce: pending.nonce,
    });
    expect(claims.sub).toMatch(/^acct_[0-9A-Z]{26}$/);
    expect(claims.sub).not.toContain(account.phoneNumber.slice(1));

    // Independently of openid-client: the ID token verifies against the published JWKS with ES256.
    const jwks = createRemoteJWKSet(new URL(`${messenger.issuer}/oidc/jwks`));
    const verified = await jwtVerify(tokens.id_token!, jwks, {
      issuer: messenger.issuer,
      audience: PAY_CLIENT_ID,
      algorithms: ["ES256"],
    });
    expect(verified.protectedHeader.alg).toBe("ES256");

    const userinfo = await client.fetchUserInfo(pay.config, tokens.access_token, account.id);
    expect(userinfo).toMatchObject({ sub: account.id, name: "Kim Minji", phone_number: account.phoneNumber });
    const jar = browser.cookieJar();
    expect(jar.has("_messenger_session")).toBe(true);
    // Every cookie value is a bearer secret, except the interaction and resume cookies: they hold the interaction
    // uid, which is in the URL anyway and useless without their signatures (the `.sig` cookies, checked here).
    secrets.push(
      code,
      tokens.access_token,
      tokens.id_token!,
      ...[...jar].filter(([name]) => !/^_messenger_(interaction|resume)$/.test(name)).map(([, value]) => value),
    );
  });

  it("a second sign-in in the same browser reuses the messenger session: no login form, same sub", async () => {
    const browser = new Browser();
    const first = await authorizationRequest(pay);
    await exchange(pay, first, await signInThroughBrowser(browser, first, pay, account));
    const second = await authorizationRequest(pay);
    const opened = await browser.open(second.url, PAY_REDIRECT);
    expect(opened.callback).toBeDefined();
    const tokens = await exchange(pay, second, opened.callback!);
    expect(tokens.claims()?.sub).toBe(account.id);
  });

  it("a wrong password shows the login page again with an error, and issues no code", async () => {
    const other = await createAccount(messenger.url, "Lee");
    const browser = new Browser();
    const pending = await authorizationRequest(pay);
    const opened = await browser.open(pending.url, PAY_REDIRECT);
    const form = readForm(opened.page!.body, /\/login$/);
    const wrong = await browser.submit(
      opened.page!,
      form,
      { phone: other.phoneNumber, password: "not-the-password" },
      PAY_REDIRECT,
    );
    expect(wrong.response.status).toBe(401);
    expect(wrong.callback).toBeUndefined();
    expect(wrong.page?.body).toContain("The phone number or password is incorrect.");
    expect(wrong.page?.body).not.toContain("not-the-password");
    // The same interaction still works with the right password.
    const right = await browser.submit(
      wrong.page!,
      readForm(wrong.page!.body, /\/login$/),
      { phone: other.phoneNumber, password: other.password },
      PAY_REDIRECT,
    );
    expect(right.callback?.searchParams.get("code")).toBeTruthy();
  });

  it("never says whether a phone number has an account", async () => {
    const known = await createAccount(messenger.url);
    const answer = async (phone: string) => {
      const browser = new Browser();
      const opened = await browser.open((await authorizationRequest(pay)).url, PAY_REDIRECT);
      const sent = await browser.submit(
        opened.page!,
        readForm(opened.page!.body, /\/login$/),
        { phone, password: "wrong-password" },
        PAY_REDIRECT,
      );
      return {
        status: sent.response.status,
        text: sent.page!.body.replace(/(interaction[=/])[\w-]+/g, "$1").replaceAll(phone, "PHONE"),
      };
    };
    expect(await answer(known.phoneNumber)).toEqual(await answer("+821099990000"));
  });

  it(`locks a phone number after ${PER_PHONE} failed passwords, even for the right one, with the same answer for unknown numbers`, async () => {
    const victim = await createAccount(messenger.url);
    const attempt = async (phone: string, password: string) => {
      const browser = new Browser();
      const pending = await authorizationRequest(pay);
      const opened = await browser.open(pending.url, PAY_REDIRECT);
      return browser.submit(opened.page!, readForm(opened.page!.body, /\/login$/), { phone, password }, PAY_REDIRECT);
    };
    for (let i = 0; i < PER_PHONE; i++)
      expect((await attempt(victim.phoneNumber, `guess-${i}-wrong`)).response.status).toBe(401);
    const locked = await attempt(victim.phoneNumber, victim.password);
    expect(locked.response.status).toBe(429);
    expect(locked.callback).toBeUndefined();
    expect(locked.page?.body).toContain("Too many failed attempts");
    // Separators do not make it another number.
    expect(
      (await attempt(victim.phoneNumber.replace(/^(\+\d\d)(\d\d)/, "$1 $2-"), victim.password)).response.status,
    ).toBe(429);
    // An unknown number is limited exactly the same way: the lock tells nothing about who has an account.
    for (let i = 0; i < PER_PHONE; i++)
      expect((await attempt("+821055554444", `guess-${i}`)).response.status).toBe(401);
    expect((await attempt("+821055554444", "anything-at-all")).response.status).toBe(429);
    // Other numbers are unaffected.
    expect((await attempt(account.phoneNumber, account.password)).callback).toBeDefined();
  });

  it("counts concurrent guesses before checking them: no more than the limit get through", async () => {
    const target = await createAccount(messenger.url);
    const browsers = await Promise.all(
      Array.from({ length: PER_PHONE * 3 }, async () => {
        const browser = new Browser();
        const opened = await browser.open((await authorizationRequest(pay)).url, PAY_REDIRECT);
        return { browser, page: opened.page! };
      }),
    );
    const statuses = await Promise.all(
      browsers.map(({ browser, page }, i) =>
        browser.submit(
          page,
          readForm(page.body, /\/login$/),
          { phone: target.phoneNumber, password: `wrong-${i}-x` },
          PAY_REDIRECT,
        ),
      ),
    );
    const counted = statuses.map((s) => s.response.status);
    expect(counted.filter((s) => s === 401)).toHaveLength(PER_PHONE);
    expect(counted.filter((s) => s === 429)).toHaveLength(PER_PHONE * 2);
  });

  it("refuses a swapped state: openid-client does not accept the callback", async () => {
    const browser = new Browser();
    const pending = await authorizationRequest(pay);
    const callback = await signInThroughBrowser(browser, pending, pay, account);
    await expect(exchange(pay, pending, callback, { state: client.randomState() })).rejects.toMatchObject({
      code: "OAUTH_INVALID_RESPONSE",
      cause: { message: 'unexpected "state" response parameter value' },
    });
  });

  it("refuses a reused authorization code with invalid_grant, and revokes what the first exchange issued", async () => {
    const browser = new Browser();
    const pending = await authorizationRequest(pay);
    const callback = await signInThroughBrowser(browser, pending, pay, account);
    const tokens = await exchange(pay, pending, callback);
    await expect(exchange(pay, pending, callback)).rejects.toMatchObject({ error: "invalid_grant" });
    // RFC 6749 §4.1.2: a code used twice revokes the tokens issued from it.
    await expect(client.fetchUserInfo(pay.config, tokens.access_token, account.id)).rejects.toMatchObject({
      status: 401,
    });
  });

  it("lets exactly one of two concurrent exchanges of one code succeed", async () => {
    const browser = new Browser();
    const pending = await authorizationRequest(pay);
    const callback = await signInThroughBrowser(browser, pending, pay, account);
    const results = await Promise.allSettled([exchange(pay, pending, callback), exchange(pay, pending, callback)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(failed.reason).toMatchObject({ error: "invalid_grant" });
  });

  it("refuses a wrong PKCE verifier with invalid_grant", async () => {
    const browser = new Browser();
    const pending = await authorizationRequest(pay);
    const callback = await signInThroughBrowser(browser, pending, pay, account);
    await expect(exchange(pay, pending, callback, { verifier: client.randomPKCECodeVerifier() })).rejects.toMatchObject(
      { error: "invalid_grant" },
    );
  });

  it("refuses a wrong client secret at the token endpoint", async () => {
    const browser = new Browser();
    const pending = await authorizationRequest(pay);
    const callback = await signInThroughBrowser(browser, pending, pay, account);
    const impostor = await relyingParty(messenger.issuer, PAY_CLIENT_ID, "x".repeat(43), PAY_REDIRECT);
    await expect(exchange(impostor, pending, callback)).rejects.toMatchObject({
      status: 401,
      cause: [{ parameters: { error: "invalid_client" } }],
    });
  });

  it("refuses an unknown client and an unregistered redirect_uri on its own page, never redirecting there", async () => {
    const browser = new Browser();
    const pending = await authorizationRequest(pay);
    const unknown = new URL(pending.url);
    unknown.searchParams.set("client_id", "nobody");
    const refusedClient = await browser.request(unknown.href);
    expect(refusedClient.status).toBe(400);
    expect(refusedClient.location).toBeUndefined();
    expect(refusedClient.body).toContain("invalid_client");

    const evil = new URL(pending.url);
    evil.searchParams.set("redirect_uri", "https://evil.example/callback");
    const refusedRedirect = await browser.request(evil.href);
    expect(refusedRedirect.status).toBe(400);
    expect(refusedRedirect.location).toBeUndefined();
    expect(refusedRedirect.body).toContain("invalid_redirect_uri");
  });

  it("requires PKCE with S256, and offers no implicit flow", async () => {
    const browser = new Browser();
    const base = (await authorizationRequest(pay)).url;
    const errorOf = async (change: (url: URL) => void) => {
      const url = new URL(base);
      change(url);
      const response = await browser.request(url.href);
      if (!response.location) return `status ${response.status}`;
      // Errors for token-returning response types come back in the fragment.
      const location = new URL(response.location);
      return location.searchParams.get("error") ?? new URLSearchParams(location.hash.slice(1)).get("error");
    };
    expect(await errorOf((url) => url.searchParams.delete("code_challenge"))).toBe("invalid_request");
    expect(await errorOf((url) => url.searchParams.set("code_challenge_method", "plain"))).toBe("invalid_request");
    expect(await errorOf((url) => url.searchParams.set("response_type", "token"))).toBe("unsupported_response_type");
    expect(await errorOf((url) => url.searchParams.set("response_type", "id_token"))).toBe("unsupported_response_type");
  });

  it("binds the login form to its interaction: another site, another interaction or no cookie gets no code", async () => {
    const victim = new Browser();
    const opened = await victim.open((await authorizationRequest(pay)).url, PAY_REDIRECT);
    const form = readForm(opened.page!.body, /\/login$/);
    const values = { phone: account.phoneNumber, password: account.password };
    const action = new URL(form.action, opened.page!.url).href;

    // A page on another origin posting into the victim's browser.
    const foreign = await victim.request(action, { form: values, origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    // The same form posted without the interaction's cookies (another browser).
    const cookieless = await new Browser().request(action, { form: values });
    expect(cookieless.status).toBe(400);
    expect(cookieless.location).toBeUndefined();
    // The victim's cookies, but the uid of another interaction in the URL.
    const otherUid = await new Browser().open((await authorizationRequest(pay)).url, PAY_REDIRECT);
    const swapped = await victim.request(
      new URL(readForm(otherUid.page!.body, /\/login$/).action, messenger.url).href,
      { form: values },
    );
    expect(swapped.status).toBe(400);
    expect(swapped.location).toBeUndefined();
    // The genuine submission still works.
    expect((await victim.submit(opened.page!, form, values, PAY_REDIRECT)).callback).toBeDefined();
  });

  it("escapes what it shows: typed input and client names are text, never markup", async () => {
    const browser = new Browser();
    const opened = await browser.open((await authorizationRequest(pay)).url, PAY_REDIRECT);
    const typed = `"><script>alert(1)</script>`;
    const sent = await browser.submit(
      opened.page!,
      readForm(opened.page!.body, /\/login$/),
      { phone: typed, password: "whatever-pw" },
      PAY_REDIRECT,
    );
    expect(sent.page?.body).not.toContain("<script>");
    expect(sent.page?.body).toContain("&quot;&gt;&lt;script&gt;");

    const shop = await relyingParty(messenger.issuer, SHOP_CLIENT_ID, messenger.shopSecret, SHOP_REDIRECT);
    const shopPage = await new Browser().open((await authorizationRequest(shop)).url, SHOP_REDIRECT);
    expect(shopPage.page?.body).toContain("&lt;b&gt;Shop &amp; &quot;Co&quot;&lt;/b&gt;");
    expect(shopPage.page?.body).not.toContain(SHOP_NAME);
  });

  it("asks a third-party client's user for consent; allow issues a code, deny returns access_denied", async () => {
    const shop = await relyingParty(messenger.issuer, SHOP_CLIENT_ID, messenger.shopSecret, SHOP_REDIRECT);
    const consentFor = async (browser: Browser) => {
      const pending = await authorizationRequest(shop, "openid profile");
      const opened = await browser.open(pending.url, SHOP_REDIRECT);
      const loggedIn = await browser.submit(
        opened.page!,
        readForm(opened.page!.body, /\/login$/),
        { phone: account.phoneNumber, password: account.password },
        SHOP_REDIRECT,
      );
      expect(loggedIn.page?.body).toContain("See your display name");
      expect(loggedIn.page?.body).not.toContain("See your phone number");
      return { pending, page: loggedIn.page! };
    };
    const allowing = new Browser();
    const allow = await consentFor(allowing);
    const allowed = await allowing.submit(allow.page, readForm(allow.page.body, /\/confirm$/), {}, SHOP_REDIRECT);
    const tokens = await exchange(shop, allow.pending, allowed.callback!);
    expect(tokens.claims()).toMatchObject({ sub: account.id, name: "Kim Minji" });
    expect(tokens.claims()?.["phone_number"]).toBeUndefined();

    const denying = new Browser();
    const deny = await consentFor(denying);
    const denied = await denying.submit(deny.page, readForm(deny.page.body, /\/abort$/), {}, SHOP_REDIRECT);
    expect(denied.callback?.searchParams.get("error")).toBe("access_denied");
    expect(denied.callback?.searchParams.get("code")).toBeNull();
  });

  it("logs no password, code, token, client secret or cookie", () => {
    const log = messenger.logLines.join("\n");
    expect(log).toContain("signed in");
    for (const secret of secrets) expect(log).not.toContain(secret);
    expect(log).not.toContain(account.phoneNumber);
  });
});
