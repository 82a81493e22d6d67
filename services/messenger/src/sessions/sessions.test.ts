/** The messenger app's sessions over real HTTP: sign-in, the guards on it, bearer use, sign-out and expiry. */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@mpay/service-kit";
import { testBackends } from "../testing/databases.ts";
import { openTestMessenger, type TestMessenger } from "../testing/messenger.ts";
import { createAccount, newPhoneNumber, type TestAccount } from "../testing/rp.ts";

const PER_PHONE = 3;

interface Answer {
  status: number;
  headers: Headers;
  body: {
    sessionToken?: string;
    expiresAt?: string;
    account?: { id: string; phoneNumber: string; displayName: string };
    error?: { type: string; code: string; message: string; param?: string; requestId?: string };
  };
}

describe.each(testBackends())("messenger app sessions [%s]", (backend) => {
  let messenger: TestMessenger;
  let account: TestAccount;
  /** Every session token and password the tests saw; none may be logged. */
  const secrets: string[] = [];

  const request = async (
    method: string,
    path: string,
    init: { body?: unknown; token?: string | undefined; raw?: string } = {},
  ): Promise<Answer> => {
    const headers: Record<string, string> = {};
    if (init.body !== undefined || init.raw !== undefined) headers["content-type"] = "application/json";
    if (init.token !== undefined) headers["authorization"] = `Bearer ${init.token}`;
    const response = await fetch(`${messenger.url}${path}`, {
      method,
      headers,
      ...(init.raw !== undefined
        ? { body: init.raw }
        : init.body !== undefined
          ? { body: JSON.stringify(init.body) }
          : {}),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? (JSON.parse(text) as Answer["body"]) : {},
    };
  };
  const signIn = (phoneNumber: string, password: string) =>
    request("POST", "/api/sessions", { body: { phoneNumber, password } });
  const withoutRequestId = (answer: Answer) => ({
    status: answer.status,
    error: { ...answer.body.error, requestId: undefined },
  });

  beforeAll(async () => {
    messenger = await openTestMessenger(backend, {
      overrides: {
        loginLimits: { perPhone: PER_PHONE, perIp: 1000, windowSeconds: 900 },
        signupRateLimitPerMinute: 1000,
      },
    });
    account = await createAccount(messenger.url, "Han Jisoo");
    secrets.push(account.password, messenger.paySecret);
  });
  afterAll(async () => {
    await messenger?.close();
  });

  it("opens a session for the right phone number and password: an opaque token, stored only as a hash", async () => {
    const answer = await signIn(account.phoneNumber, account.password);
    expect(answer.status).toBe(201);
    expect(answer.headers.get("cache-control")).toBe("no-store");
    expect(answer.body.sessionToken).toMatch(/^mss_[A-Za-z0-9_-]{43}$/);
    expect(answer.body.account).toEqual({ id: account.id, phoneNumber: account.phoneNumber, displayName: "Han Jisoo" });
    const ttlMs = Date.parse(answer.body.expiresAt!) - Date.now();
    expect(ttlMs).toBeGreaterThan(messenger.config.appSessionTtlSeconds * 1000 - 60_000);
    expect(ttlMs).toBeLessThanOrEqual(messenger.config.appSessionTtlSeconds * 1000);
    secrets.push(answer.body.sessionToken!);
    // The session works, and the table holds nothing that would work as one.
    expect((await request("GET", "/api/messages", { token: answer.body.sessionToken })).status).toBe(200);
    const rows = JSON.stringify(await queryRows(messenger.server.system.database.db, sql`select * from app_sessions`));
    expect(rows).toContain(account.id);
    expect(rows).not.toContain(answer.body.sessionToken!.slice(4));
  });

  it("answers an unknown number and a wrong password alike, and opens no session", async () => {
    const wrongPassword = await signIn(account.phoneNumber, "not-the-password");
    const unknownNumber = await signIn(newPhoneNumber(), account.password);
    const notANumber = await signIn("call me", account.password);
    expect(withoutRequestId(wrongPassword)).toEqual({
      status: 401,
      error: {
        type: "authentication_error",
        code: "credentials_invalid",
        message: "The phone number or password is incorrect.",
        requestId: undefined,
      },
    });
    expect(withoutRequestId(unknownNumber)).toEqual(withoutRequestId(wrongPassword));
    expect(withoutRequestId(notANumber)).toEqual(withoutRequestId(wrongPassword));
    // The right password clears the number's failures, so the tries above do not count against the next tests.
    expect((await signIn(account.phoneNumber, account.password)).status).toBe(201);
  });

  it("refuses bad input with stable codes", async () => {
    const cases: Array<[{ body?: unknown; raw?: string }, string, string | undefined]> = [
      [{ body: { phoneNumber: account.phoneNumber } }, "parameter_missing", "password"],
      [{ body: { password: "x" } }, "parameter_missing", "phoneNumber"],
      [{ body: { phoneNumber: account.phoneNumber, password: 12345678 } }, "parameter_invalid", "password"],
      [{ body: { phoneNumber: 821012345678, password: "a long password" } }, "parameter_invalid", "phoneNumber"],
      [
        { body: { phoneNumber: account.phoneNumber, password: account.password, remember: true } },
        "parameter_unknown",
        "remember",
      ],
      [{ raw: "{nope" }, "body_invalid_json", undefined],
    ];
    for (const [init, code, param] of cases) {
      const answer = await request("POST", "/api/sessions", init);
      expect(
        { status: answer.status, code: answer.body.error?.code, param: answer.body.error?.param },
        JSON.stringify(init),
      ).toEqual({ status: 400, code, param });
    }
  });

  it("counts a try before the password is checked: of many concurrent guesses, only the limit are checked", async () => {
    const target = await createAccount(messenger.url, "Target");
    secrets.push(target.password);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => signIn(target.phoneNumber, `wrong-guess-${i}`)),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses.filter((status) => status === 401)).toHaveLength(PER_PHONE);
    expect(statuses.filter((status) => status === 429)).toHaveLength(12 - PER_PHONE);
    expect(answers.find((answer) => answer.status === 429)?.body.error?.code).toBe("rate_limited");
    // Locked: even the right password is not checked until the window ends.
    expect((await signIn(target.phoneNumber, target.password)).status).toBe(429);
  });

  it("ends a session on sign-out, and refuses missing, malformed, unknown and expired tokens", async () => {
    const opened = await signIn(account.phoneNumber, account.password);
    const token = opened.body.sessionToken!;
    secrets.push(token);
    expect((await request("DELETE", "/api/sessions/current", { token })).status).toBe(204);
    for (const bad of [undefined, "mss_short", `mss_${"A".repeat(43)}`, token]) {
      const answer = await request("GET", "/api/messages", { token: bad });
      expect([answer.status, answer.body.error?.code], String(bad)).toEqual([401, "session_invalid"]);
    }
    expect((await request("DELETE", "/api/sessions/current", { token })).body.error?.code).toBe("session_invalid");

    const expiring = (await signIn(account.phoneNumber, account.password)).body.sessionToken!;
    secrets.push(expiring);
    await messenger.server.system.database.db.execute(
      sql`update app_sessions set expires_at = now() - interval '1 second'`,
    );
    expect((await request("GET", "/api/messages", { token: expiring })).body.error?.code).toBe("session_invalid");
    expect(await messenger.server.system.sessions.sweep()).toBeGreaterThan(0);
    const [left] = await queryRows<{ n: number }>(
      messenger.server.system.database.db,
      sql`select count(*)::int as n from app_sessions`,
    );
    expect(Number(left?.n)).toBe(0);
  });

  it("logs no password, session token, client secret or phone number", () => {
    const log = messenger.logLines.join("\n");
    expect(log).toContain("app session opened");
    for (const secret of secrets) expect(log).not.toContain(secret);
    expect(log).not.toContain(account.phoneNumber);
  });
});
