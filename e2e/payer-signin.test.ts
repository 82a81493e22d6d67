/**
 * A payer signs in to MPay with the messenger account: the pay server (relying party) and the real messenger
 * (OpenID Connect provider, its login form) across real HTTP; the payer's MPay account is made on first sign-in.
 * The sign-in ends in the wallet (issue 9): the callback redirects to the wallet's landing page with a one-time code,
 * which opens a session only with the verifier of the challenge the sign-in started with.
 */
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../services/pay/src/db/client.ts";
import { systemBackends } from "../services/pay/src/testing/databases.ts";
import { call, openTestPay, type TestPay } from "../services/pay/src/testing/system.ts";
import { loadConfig } from "../services/pay/src/config.ts";
import { Browser, readForm } from "../services/messenger/src/testing/browser.ts";
import { openTestMessenger, PAY_REDIRECT, type TestMessenger } from "../services/messenger/src/testing/messenger.ts";
import { createAccount, type TestAccount } from "../services/messenger/src/testing/rp.ts";
import { TestClock } from "@mpay/service-kit";
import { exchange, finishSignIn, landingOf, startSignIn } from "./support/payer-sign-in.ts";

type ErrorAnswer = { error: { code: string; message: string } };

describe.each(systemBackends())("payer sign-in through the messenger [%s]", (backend) => {
  let messenger: TestMessenger;
  let pay: TestPay;
  let account: TestAccount;
  const clock = new TestClock();

  beforeAll(async () => {
    messenger = await openTestMessenger(backend);
    pay = await openTestPay(backend, {
      clock,
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

  /**
   * Starts a sign-in at the pay server (with a fresh verifier's challenge) and walks the messenger's login form;
   * returns the messenger's redirect query (null when the messenger sent none back), the state and the verifier.
   */
  async function signInAtMessenger(
    browser: Browser,
    password = account.password,
  ): Promise<{ query: string | null; state: string; codeVerifier: string }> {
    const start = await startSignIn(pay.app);
    const url = new URL(start.authorizationUrl);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("client_id")).toBe("mpay-pay");
    const opened = await browser.open(url, PAY_REDIRECT);
    const submitted = await browser.submit(
      opened.page!,
      readForm(opened.page!.body, /\/login$/),
      { phone: account.phoneNumber, password },
      PAY_REDIRECT,
    );
    return {
      query: submitted.callback ? submitted.callback.search.slice(1) : null,
      state: start.state,
      codeVerifier: start.codeVerifier,
    };
  }

  /** The callback's landing error, for a callback that must fail. */
  const landingError = async (query: string) => (await landingOf(pay.app, query)).searchParams.get("error");

  it("creates the payer on first sign-in: the callback lands on the wallet with a code, exchanged for a session", async () => {
    const { query, codeVerifier } = await signInAtMessenger(new Browser());
    const callback = await pay.app.inject({ method: "GET", url: `/v1/payer/auth/callback?${query}` });
    expect(callback.statusCode).toBe(303);
    expect(callback.headers["cache-control"]).toBe("no-store");
    expect(callback.headers["referrer-policy"]).toBe("no-referrer");
    expect(callback.body).toBe("");
    const landing = new URL(String(callback.headers["location"]));
    expect(`${landing.origin}${landing.pathname}`).toBe(`${pay.config.checkoutBaseUrl}/wallet/signin`);
    const code = landing.searchParams.get("code")!;
    expect(code).toMatch(/^plc_[A-Za-z0-9_-]{43}$/);
    expect([...landing.searchParams.keys()]).toEqual(["code"]);

    const answer = await exchange(pay.app, code, codeVerifier);
    expect(answer.status).toBe(200);
    expect(answer.headers["cache-control"]).toBe("no-store");
    expect(answer.body.sessionToken).toMatch(/^pst_/);
    expect(answer.body.payer).toMatchObject({ displayName: "Park Jiwoo", phoneNumber: account.phoneNumber });
    expect(answer.body.payer.id).toMatch(/^usr_/);
    const me = await call<{ id: string }>(pay.app, "GET", "/v1/payer/me", answer.body.sessionToken);
    expect(me.body.id).toBe(answer.body.payer.id);
    // Signing in again finds the same payer: one MPay account per messenger account.
    const second = await signInAtMessenger(new Browser());
    const again = await finishSignIn(pay.app, second.query!, second.codeVerifier);
    expect(again.body.payer.id).toBe(answer.body.payer.id);
    const [row] = await queryRows<{ n: number }>(pay.system.database.db, sql`select count(*)::int as n from payers`);
    expect(Number(row?.n)).toBe(1);
  });

  it("requires the wallet's S256 challenge to start", async () => {
    for (const body of [undefined, {}, { codeChallenge: "short" }, { codeChallenge: `${"a".repeat(42)}=` }]) {
      const answer = await call<ErrorAnswer>(pay.app, "POST", "/v1/payer/auth/start", null, body);
      expect(answer.status).toBe(400);
    }
  });

  it("issues no code for a wrong password", async () => {
    const { query } = await signInAtMessenger(new Browser(), "not-the-password");
    expect(query).toBeNull();
  });

  it("spends a code once: a second exchange, even with the right verifier, is refused", async () => {
    const { query, codeVerifier } = await signInAtMessenger(new Browser());
    const code = (await landingOf(pay.app, query!)).searchParams.get("code")!;
    expect((await exchange(pay.app, code, codeVerifier)).status).toBe(200);
    const replay = await exchange(pay.app, code, codeVerifier);
    expect([replay.status, replay.body.error.code]).toEqual([401, "sign_in_invalid"]);
  });

  it("refuses a wrong verifier, and the code is spent by it: a stolen code is one guess, and not enough", async () => {
    const { query, codeVerifier } = await signInAtMessenger(new Browser());
    const code = (await landingOf(pay.app, query!)).searchParams.get("code")!;
    const other = await startSignIn(pay.app); // another sign-in's verifier: well-formed, not this code's
    const wrong = await exchange(pay.app, code, other.codeVerifier);
    expect([wrong.status, wrong.body.error.code]).toEqual([401, "sign_in_invalid"]);
    expect(wrong.raw).not.toContain(code);
    const right = await exchange(pay.app, code, codeVerifier);
    expect([right.status, right.body.error.code]).toEqual([401, "sign_in_invalid"]);
    for (const [c, v] of [
      ["plc_made-up", codeVerifier],
      [code, "short"],
      [`plc_${"A".repeat(43)}`, codeVerifier],
    ] as const) {
      const refused = await exchange(pay.app, c, v);
      expect([refused.status, refused.body.error.code]).toEqual([401, "sign_in_invalid"]);
    }
  });

  it("refuses a code after its two minutes", async () => {
    const { query, codeVerifier } = await signInAtMessenger(new Browser());
    const code = (await landingOf(pay.app, query!)).searchParams.get("code")!;
    clock.advance(121);
    const late = await exchange(pay.app, code, codeVerifier);
    expect([late.status, late.body.error.code]).toEqual([401, "sign_in_invalid"]);
  });

  it("keeps codes only as hashes, and forgets expired ones", async () => {
    const { query } = await signInAtMessenger(new Browser());
    const code = (await landingOf(pay.app, query!)).searchParams.get("code")!;
    const rows = JSON.stringify(await queryRows(pay.system.database.db, sql`select * from payer_sign_in_codes`));
    expect(rows).toContain(createHash("sha256").update(code).digest("hex"));
    expect(rows).not.toContain(code.slice(4));
    clock.advance(121);
    expect(await pay.system.payers.purgeExpiredSignIns()).toBeGreaterThanOrEqual(1);
    const left = await queryRows<{ n: number }>(
      pay.system.database.db,
      sql`select count(*)::int as n from payer_sign_in_codes`,
    );
    expect(Number(left[0]?.n)).toBe(0);
  });

  it("sends a replayed callback to the wallet with an error, not a code", async () => {
    const { query } = await signInAtMessenger(new Browser());
    expect((await landingOf(pay.app, query!)).searchParams.has("code")).toBe(true);
    expect(await landingError(query!)).toBe("sign_in_invalid");
  });

  it("refuses a swapped state: a code from one sign-in presented with another's state", async () => {
    const first = await signInAtMessenger(new Browser());
    const second = await signInAtMessenger(new Browser());
    const swapped = new URLSearchParams(first.query!);
    swapped.set("state", second.state);
    expect(await landingError(swapped.toString())).toBe("sign_in_invalid");
  });

  it("refuses a forged or missing state, a made-up code and a malformed query, always as a redirect", async () => {
    const { query } = await signInAtMessenger(new Browser());
    const params = new URLSearchParams(query!);
    params.set("state", "forged-state-value-000000000000");
    expect(await landingError(params.toString())).toBe("sign_in_invalid");
    params.delete("state");
    expect(await landingError(params.toString())).toBe("sign_in_invalid");
    const start = await startSignIn(pay.app);
    expect(
      await landingError(`code=made-up-code&state=${start.state}&iss=${encodeURIComponent(messenger.issuer)}`),
    ).toBe("sign_in_invalid");
    expect(await landingError(`code=${"x".repeat(600)}`)).toBe("sign_in_invalid");
    // The messenger's own refusal (the payer declined) comes to the wallet the same way.
    const declined = await startSignIn(pay.app);
    expect(await landingError(`error=access_denied&state=${declined.state}`)).toBe("sign_in_invalid");
  });

  it("refuses requests without a valid session", async () => {
    for (const header of [null, "pst_" + "A".repeat(43), "sk_test_x"]) {
      const answer = await call<ErrorAnswer>(pay.app, "GET", "/v1/payer/me", header);
      expect([answer.status, answer.body.error.code]).toEqual([401, "payer_session_invalid"]);
    }
  });

  it("keeps session tokens and sign-in codes out of the database and the logs", async () => {
    const { query, codeVerifier } = await signInAtMessenger(new Browser());
    const landing = await landingOf(pay.app, query!);
    const code = landing.searchParams.get("code")!;
    const session = await exchange(pay.app, code, codeVerifier);
    const rows = JSON.stringify(await queryRows(pay.system.database.db, sql`select * from payer_sessions`));
    expect(rows).not.toContain(session.body.sessionToken);
    const logs = pay.logLines.join("\n");
    for (const secret of [session.body.sessionToken, account.password, code, codeVerifier])
      expect(logs).not.toContain(secret);
    // The callback's code and state travel in the query string, which request logs leave out.
    const params = new URLSearchParams(query!);
    expect(logs).not.toContain(params.get("code")!);
    expect(logs).not.toContain(params.get("state")!);
    expect(logs).toContain("/v1/payer/auth/callback");
  });

  it("says clearly when the messenger cannot be reached", async () => {
    const offline = await openTestPay("pglite", {
      messenger: { ...loadConfig({}).messenger, issuer: "http://127.0.0.1:9", clientSecret: "x".repeat(40) },
    });
    try {
      const answer = await call<ErrorAnswer>(offline.app, "POST", "/v1/payer/auth/start", null, {
        codeChallenge: "c".repeat(43),
      });
      expect([answer.status, answer.body.error.code]).toEqual([503, "messenger_unavailable"]);
    } finally {
      await offline.close();
    }
  });
});
