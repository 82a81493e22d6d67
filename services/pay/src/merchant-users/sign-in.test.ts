/**
 * Dashboard sign-in (issue 10, deliverable 3): password then TOTP, the attempt limit claimed before checking, a
 * TOTP code and a challenge good once, sessions with an idle and an absolute end. Codes come from otpauth on a
 * moved test clock, never from waiting.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Secret } from "@mpay/protocol";
import { TestClock } from "@mpay/service-kit";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { call, openTestPay, type TestPay } from "../testing/system.ts";
import { signedInUser } from "../testing/dashboard-users.ts";
import { currentCode } from "../credentials/totp.ts";

type ErrorAnswer = { error: { code: string; message: string } };
type Challenge = {
  object: string;
  challenge: string;
  factor: string;
  totpSetup?: { secret: string; otpauthUri: string };
};
type Session = {
  object: string;
  token: string;
  expiresAt: string;
  user: { id: string; email: string; role: string; merchantId: string; merchantName: string };
};

describe.each(testBackends())("dashboard sign-in [%s]", (backend) => {
  let t: TestPay;
  const clock = new TestClock();
  beforeAll(async () => {
    t = await openTestPay(backend, { clock });
  });
  afterAll(() => t.close());

  const addUser = async (email: string, password = "a long enough password") => {
    const { user } = await t.system.merchantUsers.create({
      merchantId: t.merchant.id,
      email,
      name: "Mina Kim",
      role: "developer",
      actor: "operator:test",
      password: new Secret(password),
    });
    return user;
  };
  const signIn = (email: string, password: string) =>
    call<Challenge & ErrorAnswer>(t.app, "POST", "/v1/dashboard/sign-in", null, { email, password });
  const totp = (challenge: string, code: string) =>
    call<Session & ErrorAnswer>(t.app, "POST", "/v1/dashboard/sign-in/totp", null, { challenge, code });

  it("sets up TOTP at the first sign-in, then asks for a code, and the session works on merchant routes", async () => {
    const user = await addUser("Mina@Shop.Example");
    expect(user.email).toBe("mina@shop.example");

    const first = await signIn("MINA@shop.example ", "a long enough password");
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ object: "sign_in_challenge", factor: "totp_setup" });
    expect(first.body.challenge).toMatch(/^dsc_/);
    const secret = first.body.totpSetup?.secret ?? "";
    expect(first.body.totpSetup?.otpauthUri).toContain(`secret=${secret}`);

    const session = await totp(first.body.challenge, currentCode(secret, clock.now()));
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({
      object: "dashboard_session",
      user: {
        id: user.id,
        email: "mina@shop.example",
        role: "developer",
        merchantId: t.merchant.id,
        merchantName: "Test Shop",
      },
    });
    expect(session.body.token).toMatch(/^mds_/);
    const lifetime = new Date(session.body.expiresAt).getTime() - clock.now().getTime();
    expect(lifetime).toBeGreaterThan(12 * 3600_000 - 10_000);
    expect(lifetime).toBeLessThanOrEqual(12 * 3600_000);

    const me = await call<{ user: { id: string }; mode: string }>(t.app, "GET", "/v1/dashboard/me", session.body.token);
    expect([me.status, me.body.user.id, me.body.mode]).toEqual([200, user.id, "test"]);
    const payments = await call(t.app, "GET", "/v1/payments", session.body.token);
    expect(payments.status).toBe(200);

    // The second sign-in asks for a code of the seed set up; a code of the next step (30 s later) works.
    clock.advance(30);
    const second = await signIn("mina@shop.example", "a long enough password");
    expect(second.body).toEqual({ object: "sign_in_challenge", challenge: second.body.challenge, factor: "totp" });
    const again = await totp(second.body.challenge, currentCode(secret, clock.now()));
    expect(again.status).toBe(200);

    await t.system.audit.seal(); // appends reach audit_log when sealed (audit/service.ts)
    const audit = await queryRows<{ action: string; actor: string }>(
      t.system.database.db,
      sql`select action, actor from audit_log where target = ${user.id} order by seq`,
    );
    expect(audit.map((a) => a.action)).toEqual([
      "merchant_user.created",
      "merchant_user.signed_in",
      "merchant_user.signed_in",
    ]);
    // No secret in the audit log or the server's log.
    const everything =
      JSON.stringify(await queryRows(t.system.database.db, sql`select * from audit_log`)) + t.logLines.join("\n");
    for (const secretText of [secret, session.body.token, again.body.token, "a long enough password"])
      expect(everything).not.toContain(secretText);
  });

  it("answers a wrong password and an unknown email alike", async () => {
    await addUser("wrong-password@shop.example");
    const wrong = await signIn("wrong-password@shop.example", "not the password");
    const unknown = await signIn("nobody@shop.example", "not the password");
    expect([wrong.status, wrong.body.error.code]).toEqual([401, "sign_in_failed"]);
    expect([unknown.status, unknown.body.error.code]).toEqual([401, "sign_in_failed"]);
    expect(unknown.body.error.message).toBe(wrong.body.error.message);
  });

  it("locks an email after 5 attempts in 15 minutes, concurrent ones included, the right password too", async () => {
    await addUser("locked@shop.example", "the right password");
    const attempts = await Promise.all(
      Array.from({ length: 12 }, () => signIn("locked@shop.example", "a wrong guess")),
    );
    const codes = attempts.map((a) => a.body.error.code);
    expect(codes.filter((c) => c === "sign_in_failed")).toHaveLength(5);
    expect(codes.filter((c) => c === "sign_in_locked")).toHaveLength(7);
    const locked = await signIn("locked@shop.example", "the right password");
    expect([locked.status, locked.body.error.code]).toEqual([429, "sign_in_locked"]);
    clock.advance(15 * 60 + 1);
    const later = await signIn("locked@shop.example", "the right password");
    expect(later.status).toBe(200);
  });

  it("refuses a TOTP code used once, a wrong code, and a challenge used once", async () => {
    const user = await signedInUser(t, t.merchant.id, "support", clock);
    const first = await signIn(user.email, user.password);
    const code = currentCode(user.totpSecret, clock.now());
    // The code of the sign-in that set TOTP up is spent: the same step is refused (replay guard).
    const replayed = await totp(first.body.challenge, code);
    expect([replayed.status, replayed.body.error.code]).toEqual([401, "totp_invalid"]);
    const wrong = await totp(first.body.challenge, code === "000000" ? "111111" : "000000");
    expect([wrong.status, wrong.body.error.code]).toEqual([401, "totp_invalid"]);
    clock.advance(30);
    const next = currentCode(user.totpSecret, clock.now());
    const ok = await totp(first.body.challenge, next);
    expect(ok.status).toBe(200);
    const reused = await totp(first.body.challenge, next);
    expect([reused.status, reused.body.error.code]).toEqual([401, "sign_in_challenge_invalid"]);
    // A new challenge with the same code: still refused, the code's step is spent.
    const second = await signIn(user.email, user.password);
    const replayedAgain = await totp(second.body.challenge, next);
    expect([replayedAgain.status, replayedAgain.body.error.code]).toEqual([401, "totp_invalid"]);
  });

  it("expires a challenge after 5 minutes and spends it after 5 wrong codes", async () => {
    const user = await signedInUser(t, t.merchant.id, "support", clock);
    const stale = await signIn(user.email, user.password);
    clock.advance(5 * 60 + 1);
    const late = await totp(stale.body.challenge, currentCode(user.totpSecret, clock.now()));
    expect([late.status, late.body.error.code]).toEqual([401, "sign_in_challenge_invalid"]);

    clock.advance(30);
    const guessed = await signIn(user.email, user.password);
    for (let i = 0; i < 5; i++) {
      const bad = await totp(guessed.body.challenge, String(100000 + i));
      expect(bad.body.error.code).toBe("totp_invalid");
    }
    const right = await totp(guessed.body.challenge, currentCode(user.totpSecret, clock.now()));
    expect([right.status, right.body.error.code]).toEqual([401, "sign_in_challenge_invalid"]);
  });

  it("ends a session after 30 idle minutes, after 12 hours, at sign-out, and when the user is disabled", async () => {
    const idle = await signedInUser(t, t.merchant.id, "support", clock);
    clock.advance(29 * 60);
    expect((await call(t.app, "GET", "/v1/payments", idle.token)).status).toBe(200);
    clock.advance(29 * 60);
    expect((await call(t.app, "GET", "/v1/payments", idle.token)).status).toBe(200);
    clock.advance(31 * 60);
    const idled = await call<ErrorAnswer>(t.app, "GET", "/v1/payments", idle.token);
    expect([idled.status, idled.body.error.code]).toEqual([401, "dashboard_session_invalid"]);

    const busy = await signedInUser(t, t.merchant.id, "support", clock);
    for (let elapsed = 0; elapsed < 12 * 60; elapsed += 25) {
      clock.advance(25 * 60);
      const answer = await call(t.app, "GET", "/v1/account", busy.token);
      if (elapsed + 25 < 12 * 60) expect(answer.status).toBe(200);
      else expect(answer.status).toBe(401);
    }

    const leaving = await signedInUser(t, t.merchant.id, "support", clock);
    expect((await call(t.app, "POST", "/v1/dashboard/sign-out", leaving.token, {})).status).toBe(200);
    expect((await call(t.app, "GET", "/v1/payments", leaving.token)).status).toBe(401);

    const owner = await signedInUser(t, t.merchant.id, "owner", clock);
    const disabled = await signedInUser(t, t.merchant.id, "developer", clock);
    const off = await call(t.app, "POST", `/v1/dashboard/users/${disabled.id}`, owner.token, { disabled: true });
    expect(off.status).toBe(200);
    expect((await call(t.app, "GET", "/v1/payments", disabled.token)).status).toBe(401);
    const refused = await signIn(disabled.email, disabled.password);
    expect(refused.body.error.code).toBe("sign_in_failed");

    // The maintenance task forgets sessions and challenges past their end, and attempts past their window.
    clock.advance(13 * 3600);
    expect(await t.system.merchantUsers.purgeExpired()).toBeGreaterThan(0);
    const left = await queryRows<{ n: number }>(
      t.system.database.db,
      sql`select (select count(*) from merchant_user_sessions where expires_at < ${clock.now().toISOString()}::timestamptz)::int
           + (select count(*) from merchant_user_challenges where expires_at < ${clock.now().toISOString()}::timestamptz)::int
           + (select count(*) from merchant_user_sign_in_slots)::int as n`,
    );
    expect(left[0]?.n).toBe(0);
  });

  it("refuses malformed tokens without touching the database's answers", async () => {
    for (const token of ["mds_short", "mds_" + "x".repeat(43), "dsc_" + "A".repeat(43)]) {
      const answer = await call<ErrorAnswer>(t.app, "GET", "/v1/payments", token);
      expect(answer.status, token).toBe(401);
    }
    const bad = await totp("dsc_nope", "123456");
    expect(bad.body.error.code).toBe("sign_in_challenge_invalid");
  });
});
