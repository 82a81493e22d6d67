/**
 * The operator console's staff (issue 10, deliverable 4): sign-in with password then TOTP (set up at the first
 * sign-in), role checks (support reads, admin creates and suspends merchants), a suspended merchant's key and
 * dashboard session refused with 403 merchant_suspended, staff and merchant credentials each refused in the other's
 * routes, and every staff action audited as `staff:stf_…`. Codes come from otpauth on a moved test clock.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Secret } from "@mpay/protocol";
import { TestClock } from "@mpay/service-kit";
import { queryRows } from "../db/client.ts";
import { currentCode } from "../credentials/totp.ts";
import { testBackends } from "../testing/databases.ts";
import { signedInUser } from "../testing/dashboard-users.ts";
import { call, openTestPay, type TestPay } from "../testing/system.ts";

type ErrorAnswer = { error: { code: string; message: string } };
type Challenge = { challenge: string; factor: string; totpSetup?: { secret: string; otpauthUri: string } };
type Session = { object: string; token: string; expiresAt: string; staff: { id: string; role: string } };
type Merchant = { id: string; name: string; suspended: boolean };

describe.each(testBackends())("operator console staff [%s]", (backend) => {
  let t: TestPay;
  const clock = new TestClock();
  beforeAll(async () => {
    t = await openTestPay(backend, { clock });
  });
  afterAll(() => t.close());

  let counter = 0;
  /** A staff member made as `mpay staff add` makes one, signed in through the HTTP steps (TOTP set up). */
  const signedInStaff = async (role: "admin" | "support") => {
    counter += 1;
    const email = `${role}-${counter}@mpay.example`;
    const password = `staff password ${counter}`;
    const { staff } = await t.system.staff.create({
      email,
      name: `${role} ${counter}`,
      role,
      actor: "operator:cli",
      password: new Secret(password),
    });
    const first = await call<Challenge>(t.app, "POST", "/v1/staff/sign-in", null, { email, password });
    expect([first.status, first.body.factor]).toEqual([200, "totp_setup"]);
    expect(first.body.challenge).toMatch(/^stc_/);
    const secret = first.body.totpSetup?.secret ?? "";
    const code = currentCode(secret, clock.now());
    const session = await call<Session>(t.app, "POST", "/v1/staff/sign-in/totp", null, {
      challenge: first.body.challenge,
      code,
    });
    expect(session.status).toBe(200);
    expect(session.body.token).toMatch(/^sts_/);
    return { id: staff.id, email, password, secret, code, token: session.body.token, first: first.body };
  };

  it("signs in with password and TOTP, refuses a replayed code, and its session lasts 8 h / 15 min idle", async () => {
    const admin = await signedInStaff("admin");
    const me = await call<{ staff: { id: string; role: string } }>(t.app, "GET", "/v1/staff/me", admin.token);
    expect([me.status, me.body.staff.id, me.body.staff.role]).toEqual([200, admin.id, "admin"]);

    // The second sign-in asks for a code of the seed set up; the code already used (same step) is refused.
    const second = await call<Challenge>(t.app, "POST", "/v1/staff/sign-in", null, {
      email: admin.email,
      password: admin.password,
    });
    expect(second.body.factor).toBe("totp");
    // The very code used (the test clock runs on real time: a code computed now could belong to the next step).
    const replay = await call<ErrorAnswer>(t.app, "POST", "/v1/staff/sign-in/totp", null, {
      challenge: second.body.challenge,
      code: admin.code,
    });
    expect([replay.status, replay.body.error.code]).toEqual([401, "totp_invalid"]);
    clock.advance(30);
    const again = await call<Session>(t.app, "POST", "/v1/staff/sign-in/totp", null, {
      challenge: second.body.challenge,
      code: currentCode(admin.secret, clock.now()),
    });
    expect(again.status).toBe(200);
    const lifetime = new Date(again.body.expiresAt).getTime() - clock.now().getTime();
    expect(lifetime).toBeGreaterThan(8 * 3600_000 - 10_000);
    expect(lifetime).toBeLessThanOrEqual(8 * 3600_000);

    const wrong = await call<ErrorAnswer>(t.app, "POST", "/v1/staff/sign-in", null, {
      email: admin.email,
      password: "not it",
    });
    const unknown = await call<ErrorAnswer>(t.app, "POST", "/v1/staff/sign-in", null, {
      email: "nobody@mpay.example",
      password: "not it",
    });
    expect([wrong.status, wrong.body.error.code, unknown.status, unknown.body.error.code]).toEqual([
      401,
      "sign_in_failed",
      401,
      "sign_in_failed",
    ]);

    // Idle for more than 15 minutes: the session ends.
    clock.advance(16 * 60);
    const idle = await call<ErrorAnswer>(t.app, "GET", "/v1/staff/me", again.body.token);
    expect([idle.status, idle.body.error.code]).toEqual([401, "staff_session_invalid"]);
  });

  it("lets support read and refuses it creating or suspending merchants", async () => {
    const support = await signedInStaff("support");
    const list = await call<{ data: Merchant[] }>(t.app, "GET", "/v1/staff/merchants", support.token);
    expect(list.status).toBe(200);
    expect(list.body.data.map((m) => m.id)).toContain(t.merchant.id);
    for (const path of ["/v1/staff/vault", "/v1/staff/keys", "/v1/staff/webhooks"])
      expect((await call(t.app, "GET", path, support.token)).status).toBe(200);
    const vault = await call<{ kind: string; sealed: boolean }>(t.app, "GET", "/v1/staff/vault", support.token);
    expect(vault.body).toMatchObject({ kind: "dev", sealed: false });
    // An issuer operation whose answer was lost (as issuer-operations writes one before calling the issuer).
    await t.system.database.db.execute(
      sql`insert into issuer_operations (id, payment_id, merchant_id, issuer_id, kind, amount, status)
          values ('iop_console_test', 'pay_console_test', ${t.merchant.id}, 'simulator', 'capture', 1000, 'pending')`,
    );
    const queue = await call<{ count: number; oldest: { id: string; kind: string }[] }>(
      t.app,
      "GET",
      "/v1/staff/reconciler",
      support.token,
    );
    expect([queue.status, queue.body.count, queue.body.oldest[0]?.id]).toEqual([200, 1, "iop_console_test"]);
    const create = await call<ErrorAnswer>(t.app, "POST", "/v1/staff/merchants", support.token, { name: "Nope" });
    expect([create.status, create.body.error.code]).toEqual([403, "permission_denied"]);
    const suspend = await call<ErrorAnswer>(
      t.app,
      "POST",
      `/v1/staff/merchants/${t.merchant.id}/suspend`,
      support.token,
      {},
    );
    expect([suspend.status, suspend.body.error.code]).toEqual([403, "permission_denied"]);
    const names = (await call<{ data: Merchant[] }>(t.app, "GET", "/v1/staff/merchants", support.token)).body.data;
    expect(names.map((m) => m.name)).not.toContain("Nope");
    expect(names.find((m) => m.id === t.merchant.id)?.suspended).toBe(false);
  });

  it("an admin creates a merchant (keys answered once) and suspends it: its key and sessions get 403", async () => {
    const admin = await signedInStaff("admin");
    const made = await call<{ merchant: Merchant; secretKey: string; publishableKey: string }>(
      t.app,
      "POST",
      "/v1/staff/merchants",
      admin.token,
      { name: "Corner Cafe", displayName: "Corner Café", allowedOrigins: ["https://cafe.example"] },
    );
    expect(made.status).toBe(200);
    expect(made.body.secretKey).toMatch(/^sk_test_/);
    const id = made.body.merchant.id;
    expect((await call(t.app, "GET", "/v1/payments", made.body.secretKey)).status).toBe(200);
    const owner = await signedInUser(t, id, "owner", clock);
    expect((await call(t.app, "GET", "/v1/payments", owner.token)).status).toBe(200);

    const suspended = await call<Merchant>(t.app, "POST", `/v1/staff/merchants/${id}/suspend`, admin.token, {});
    expect([suspended.status, suspended.body.suspended]).toEqual([200, true]);
    for (const credential of [made.body.secretKey, owner.token]) {
      const refused = await call<ErrorAnswer>(t.app, "GET", "/v1/payments", credential);
      expect([refused.status, refused.body.error.code]).toEqual([403, "merchant_suspended"]);
    }
    // Other merchants are not touched.
    expect((await call(t.app, "GET", "/v1/payments", t.merchant.secretKey)).status).toBe(200);

    const lifted = await call<Merchant>(t.app, "POST", `/v1/staff/merchants/${id}/unsuspend`, admin.token, {});
    expect([lifted.status, lifted.body.suspended]).toEqual([200, false]);
    expect((await call(t.app, "GET", "/v1/payments", made.body.secretKey)).status).toBe(200);

    await t.system.audit.seal(); // appends reach audit_log when sealed (audit/service.ts)
    const audit = await queryRows<{ action: string; actor: string }>(
      t.system.database.db,
      sql`select action, actor from audit_log where target = ${id} and action like 'merchant.%' order by seq`,
    );
    expect(audit).toEqual([
      { action: "merchant.created", actor: `staff:${admin.id}` },
      { action: "merchant.suspended", actor: `staff:${admin.id}` },
      { action: "merchant.unsuspended", actor: `staff:${admin.id}` },
    ]);

    const verify = await call<{ ok: boolean; entries: number }>(
      t.app,
      "POST",
      "/v1/staff/audit/verify",
      admin.token,
      {},
    );
    expect([verify.status, verify.body.ok]).toEqual([200, true]);
    expect(verify.body.entries).toBeGreaterThan(0);

    // No secret in the audit log or the server's log.
    const everything =
      JSON.stringify(await queryRows(t.system.database.db, sql`select * from audit_log`)) + t.logLines.join("\n");
    for (const secret of [admin.secret, admin.token, admin.password, made.body.secretKey])
      expect(everything).not.toContain(secret);
  });

  it("refuses staff tokens on merchant routes and merchant credentials on staff routes", async () => {
    const admin = await signedInStaff("admin");
    const owner = await signedInUser(t, t.merchant.id, "owner", clock);
    for (const path of ["/v1/payments", "/v1/account", "/v1/dashboard/me"]) {
      const refused = await call<ErrorAnswer>(t.app, "GET", path, admin.token);
      expect(refused.status).toBe(401);
    }
    for (const credential of [t.merchant.secretKey, t.merchant.publishableKey, owner.token, null]) {
      const refused = await call<ErrorAnswer>(t.app, "GET", "/v1/staff/merchants", credential);
      expect([refused.status, refused.body.error.code]).toEqual([401, "staff_session_invalid"]);
      const create = await call<ErrorAnswer>(t.app, "POST", "/v1/staff/merchants", credential, { name: "X" });
      expect(create.status).toBe(401);
    }
    // A dashboard sign-in challenge is no console challenge, and a console one no dashboard one.
    const staffChallenge = (
      await call<Challenge>(t.app, "POST", "/v1/staff/sign-in", null, { email: admin.email, password: admin.password })
    ).body.challenge;
    const crossed = await call<ErrorAnswer>(t.app, "POST", "/v1/dashboard/sign-in/totp", null, {
      challenge: staffChallenge,
      code: currentCode(admin.secret, clock.now()),
    });
    expect([crossed.status, crossed.body.error.code]).toEqual([401, "sign_in_challenge_invalid"]);
    // The console routes are not in the merchant API's description.
    const openapi = await call<{ paths: Record<string, unknown> }>(t.app, "GET", "/openapi.json", null);
    expect(Object.keys(openapi.body.paths).filter((p) => p.startsWith("/v1/staff"))).toEqual([]);
  });
});
