/** Account creation through the JSON API and the sign-up page, over real HTTP. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, readForm } from "../testing/browser.ts";
import { testBackends } from "../testing/databases.ts";
import { openTestMessenger, PAY_REDIRECT, type TestMessenger } from "../testing/messenger.ts";
import { authorizationRequest, exchange, newPhoneNumber, relyingParty } from "../testing/rp.ts";
import { PAY_CLIENT_ID } from "../config.ts";

interface AccountAnswer {
  id?: string;
  phoneNumber?: string;
  error?: { type: string; code: string; message: string; param?: string };
}

describe.each(testBackends())("messenger accounts [%s]", (backend) => {
  let messenger: TestMessenger;
  const post = async (body: unknown, contentType = "application/json") => {
    const response = await fetch(`${messenger.url}/api/accounts`, {
      method: "POST",
      headers: { "content-type": contentType },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as AccountAnswer };
  };

  beforeAll(async () => {
    messenger = await openTestMessenger(backend, { overrides: { signupRateLimitPerMinute: 12 } });
  });
  afterAll(async () => {
    await messenger?.close();
  });

  it("creates an account from JSON and normalizes the phone number", async () => {
    const created = await post({
      phoneNumber: "+82 10-2222-3333",
      displayName: "  Park Jiwoo ",
      password: "a long password",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      phoneNumber: "+821022223333",
      displayName: "Park Jiwoo",
      phoneNumberVerified: true,
    });
    expect(created.body.id).toMatch(/^acct_[0-9A-Z]{26}$/);
    expect(JSON.stringify(created.body)).not.toContain("password");
  });

  it("answers every refusal with a stable code", async () => {
    const valid = { phoneNumber: newPhoneNumber(), displayName: "Choi", password: "a long password" };
    const cases: Array<[unknown, number, string, string | undefined]> = [
      [{ ...valid, phoneNumber: "+821022223333" }, 409, "phone_number_taken", "phoneNumber"],
      [{ ...valid, phoneNumber: "010-1234-5678" }, 400, "phone_number_invalid", "phoneNumber"],
      [{ ...valid, password: "short" }, 400, "password_too_weak", "password"],
      [{ ...valid, displayName: "" }, 400, "parameter_invalid", "displayName"],
      [{ ...valid, displayName: "evil\u202eeman" }, 400, "parameter_invalid", "displayName"],
      [{ phoneNumber: valid.phoneNumber, password: valid.password }, 400, "parameter_missing", "displayName"],
      [{ ...valid, admin: true }, 400, "parameter_unknown", "admin"],
      ["{not json", 400, "body_invalid_json", undefined],
    ];
    for (const [body, status, code, param] of cases) {
      const answer = await post(body);
      expect(
        { status: answer.status, code: answer.body.error?.code, param: answer.body.error?.param },
        JSON.stringify(body),
      ).toEqual({ status, code, param });
    }
    expect((await post("phoneNumber=x", "text/plain")).body.error?.code).toBe("parameter_invalid");
  });

  it("creates an account from the sign-up page, then returns to the sign-in it came from", async () => {
    const pay = await relyingParty(messenger.issuer, PAY_CLIENT_ID, messenger.paySecret, PAY_REDIRECT);
    const browser = new Browser();
    const pending = await authorizationRequest(pay);
    const login = await browser.open(pending.url, PAY_REDIRECT);
    const signupLink = /href="(\/signup\?interaction=[\w-]+)"/.exec(login.page!.body)?.[1];
    expect(signupLink).toBeDefined();
    const signup = await browser.open(new URL(signupLink!, messenger.url), PAY_REDIRECT);
    const form = readForm(signup.page!.body, /^\/signup/);
    const phoneNumber = newPhoneNumber();

    const weak = await browser.submit(
      signup.page!,
      form,
      { phoneNumber, displayName: "<i>Yoon</i>", password: "short" },
      PAY_REDIRECT,
    );
    expect(weak.response.status).toBe(400);
    expect(weak.page?.body).toContain("password must be at least 8 characters");
    expect(weak.page?.body).toContain('value="&lt;i&gt;Yoon&lt;/i&gt;"');

    const created = await browser.submit(
      weak.page!,
      readForm(weak.page!.body, /^\/signup/),
      { phoneNumber, displayName: "<i>Yoon</i>", password: "yoon's password" },
      PAY_REDIRECT,
    );
    expect(created.response.status).toBe(303);
    expect(created.response.location).toBe(login.page!.url);
    const loginAgain = created.page!;
    const signedIn = await browser.submit(
      loginAgain,
      readForm(loginAgain.body, /\/login$/),
      { phone: phoneNumber, password: "yoon's password" },
      PAY_REDIRECT,
    );
    const tokens = await exchange(pay, pending, signedIn.callback!);
    expect(tokens.claims()).toMatchObject({ name: "<i>Yoon</i>", phone_number: phoneNumber });

    const again = await new Browser().open(`${messenger.url}/signup`, PAY_REDIRECT);
    const taken = await new Browser().submit(
      again.page!,
      readForm(again.page!.body, /^\/signup/),
      { phoneNumber, displayName: "Other", password: "another password" },
      PAY_REDIRECT,
    );
    expect(taken.response.status).toBe(409);
    expect(taken.page?.body).toContain("already exists");
  });

  it("refuses a sign-up form posted from another site", async () => {
    const browser = new Browser();
    const response = await browser.request(`${messenger.url}/signup`, {
      form: { phoneNumber: newPhoneNumber(), displayName: "X", password: "a long password" },
      origin: "https://evil.example",
    });
    expect(response.status).toBe(403);
  });

  it("serves health, a home page and JSON 404s under /api", async () => {
    expect(await (await fetch(`${messenger.url}/healthz`)).json()).toEqual({ status: "ok" });
    expect((await fetch(`${messenger.url}/readyz`)).status).toBe(200);
    const home = await fetch(`${messenger.url}/`);
    expect(home.headers.get("content-type")).toContain("text/html");
    const missing = await fetch(`${messenger.url}/api/nothing`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("route_not_found");
  });

  it("rate-limits account creation per address", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++)
      statuses.push(
        (await post({ phoneNumber: newPhoneNumber(), displayName: "Bulk", password: "a long password" })).status,
      );
    expect(statuses).toContain(429);
    const limited = await post({ phoneNumber: newPhoneNumber(), displayName: "Bulk", password: "a long password" });
    expect(limited.body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });
  });
});
