/**
 * A payer signs in to MPay with the messenger account: the pay server (relying party) and the real messenger
 * (OpenID Connect provider, its login form) across real HTTP; the payer's MPay account is made on first sign-in.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../services/pay/src/db/client.ts";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { call, openTestPay, type TestPay } from "../services/pay/src/testing/system.ts";
import { loadConfig } from "../services/pay/src/config.ts";
import { Browser, readForm } from "../services/messenger/src/testing/browser.ts";
import { openTestMessenger, PAY_REDIRECT, type TestMessenger } from "../services/messenger/src/testing/messenger.ts";
import { createAccount, type TestAccount } from "../services/messenger/src/testing/rp.ts";

type ErrorAnswer = { error: { code: string; message: string } };
type Session = { sessionToken: string; payer: { id: string; displayName: string; phoneNumber: string } };

describe.each(systemBackends())("payer sign-in through the messenger [%s]", (backend) => {
  let messenger: TestMessenger;
  let pay: TestPay;
  let account: TestAccount;

  beforeAll(async () => {
    messenger = await openTestMessenger(backend);
    pay = await openTestPay(backend, {
      messenger: {
        issuer: messenger.issuer,
        clientId: "mpay-pay",
        clientSecret: messenger.paySecret,
        clientSecretFile: "/nonexistent",
      },
    });
    // The messenger registered the pay server's callback on port 4000; the in-process pay server answers it.
    expect(`${pay.config.publicUrl}/v1/payer/auth/callback`).toBe(PAY_REDIRECT);
    account = await createAccount(messenger.url, "Park Jiwoo");
  });
  afterAll(async () => {
    await pay?.close();
    await messenger?.close();
  });

  /** Starts a sign-in at the pay server and walks the messenger's login form; returns the callback query. */
  async function signInAtMessenger(
    browser: Browser,
    password = account.password,
  ): Promise<{ query: string | null; state: string }> {
    const start = await call<{ authorizationUrl: string; state: string }>(
      pay.app,
      "POST",
      "/v1/payer/auth/start",
      null,
    );
    expect(start.status).toBe(200);
    const url = new URL(start.body.authorizationUrl);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("client_id")).toBe("mpay-pay");
    const opened = await browser.open(url, PAY_REDIRECT);
    const submitted = await browser.submit(
      opened.page!,
      readForm(opened.page!.body, /\/login$/),
      { phone: account.phoneNumber, password },
      PAY_REDIRECT,
    );
    return { query: submitted.callback ? submitted.callback.search.slice(1) : null, state: start.body.state };
  }

  const finish = (query: string) =>
    call<Session & ErrorAnswer>(pay.app, "GET", `/v1/payer/auth/callback?${query}`, null);

  it("creates the payer on first sign-in and opens a session", async () => {
    const { query } = await signInAtMessenger(new Browser());
    const answer = await finish(query!);
    expect(answer.status).toBe(200);
    expect(answer.body.sessionToken).toMatch(/^pst_/);
    expect(answer.body.payer).toMatchObject({ displayName: "Park Jiwoo", phoneNumber: account.phoneNumber });
    expect(answer.body.payer.id).toMatch(/^usr_/);
    const me = await call<{ id: string }>(pay.app, "GET", "/v1/payer/me", answer.body.sessionToken);
    expect(me.body.id).toBe(answer.body.payer.id);
    // Signing in again finds the same payer: one MPay account per messenger account.
    const again = await finish((await signInAtMessenger(new Browser())).query!);
    expect(again.body.payer.id).toBe(answer.body.payer.id);
    const [row] = await queryRows<{ n: number }>(pay.system.database.db, sql`select count(*)::int as n from payers`);
    expect(Number(row?.n)).toBe(1);
  });

  it("issues no code for a wrong password", async () => {
    const { query } = await signInAtMessenger(new Browser(), "not-the-password");
    expect(query).toBeNull();
  });

  it("refuses a replayed callback", async () => {
    const { query } = await signInAtMessenger(new Browser());
    expect((await finish(query!)).status).toBe(200);
    const replay = await finish(query!);
    expect([replay.status, replay.body.error.code]).toEqual([401, "sign_in_invalid"]);
  });

  it("refuses a swapped state: a code from one sign-in presented with another's state", async () => {
    const first = await signInAtMessenger(new Browser());
    const second = await signInAtMessenger(new Browser());
    const swapped = new URLSearchParams(first.query!);
    swapped.set("state", second.state);
    const answer = await finish(swapped.toString());
    expect([answer.status, answer.body.error.code]).toEqual([401, "sign_in_invalid"]);
  });

  it("refuses a forged or missing state and a made-up code", async () => {
    const { query } = await signInAtMessenger(new Browser());
    const params = new URLSearchParams(query!);
    params.set("state", "forged-state-value-000000000000");
    expect((await finish(params.toString())).body.error.code).toBe("sign_in_invalid");
    params.delete("state");
    expect((await finish(params.toString())).body.error.code).toBe("sign_in_invalid");
    const start = await call<{ state: string }>(pay.app, "POST", "/v1/payer/auth/start", null);
    const madeUp = await finish(
      `code=made-up-code&state=${start.body.state}&iss=${encodeURIComponent(messenger.issuer)}`,
    );
    expect([madeUp.status, madeUp.body.error.code]).toEqual([401, "sign_in_invalid"]);
  });

  it("refuses requests without a valid session", async () => {
    for (const header of [null, "pst_" + "A".repeat(43), "sk_test_x"]) {
      const answer = await call<ErrorAnswer>(pay.app, "GET", "/v1/payer/me", header);
      expect([answer.status, answer.body.error.code]).toEqual([401, "payer_session_invalid"]);
    }
  });

  it("keeps session tokens out of the database and the logs", async () => {
    const { query } = await signInAtMessenger(new Browser());
    const session = await finish(query!);
    const rows = JSON.stringify(await queryRows(pay.system.database.db, sql`select * from payer_sessions`));
    expect(rows).not.toContain(session.body.sessionToken);
    expect(pay.logLines.join("\n")).not.toContain(session.body.sessionToken);
    expect(pay.logLines.join("\n")).not.toContain(account.password);
    // The callback's code and state travel in the query string, which request logs leave out.
    const params = new URLSearchParams(query!);
    expect(pay.logLines.join("\n")).not.toContain(params.get("code")!);
    expect(pay.logLines.join("\n")).not.toContain(params.get("state")!);
    expect(pay.logLines.join("\n")).toContain("/v1/payer/auth/callback");
  });

  it("says clearly when the messenger cannot be reached", async () => {
    const offline = await openTestPay("pglite", {
      messenger: { ...loadConfig({}).messenger, issuer: "http://127.0.0.1:9", clientSecret: "x".repeat(40) },
    });
    try {
      const answer = await call<ErrorAnswer>(offline.app, "POST", "/v1/payer/auth/start", null);
      expect([answer.status, answer.body.error.code]).toEqual([503, "messenger_unavailable"]);
    } finally {
      await offline.close();
    }
  });
});
