/**
 * The authorization test of issue 10: what each dashboard role may do through the same /v1 routes a secret key
 * calls, and that one merchant's user sees nothing of another merchant's — route by route, over every GET route the
 * app registers (a route added later is walked too), with the other merchant's real ids. The mode header keeps
 * test and live apart. Every refused change is checked to have changed nothing.
 */
import { sql } from "drizzle-orm";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "@mpay/protocol";
import { queryRows } from "../db/client.ts";
import type { ShamirKeyProvider } from "../keys/shamir/shamir-provider.ts";
import { testBackends } from "../testing/databases.ts";
import { signedInUser, type TestUser } from "../testing/dashboard-users.ts";
import {
  authorizeThroughService,
  call,
  openTestPay,
  paymentBody,
  type TestMerchant,
  type TestPay,
} from "../testing/system.ts";
import { PERMISSIONS, classifyRoute } from "./permissions.ts";

type ErrorAnswer = { error: { code: string; message: string } };
type Payment = { id: string; status: string; amount: number; amountRefunded: number };
type List = { data: Array<{ id: string }> };

const MARK = "Authz-A-only";

describe.each(testBackends())("who may do what in the dashboard [%s]", (backend) => {
  let t: TestPay;
  let shopA: TestMerchant;
  let shopB: TestMerchant;
  let support: TestUser;
  let developer: TestUser;
  let owner: TestUser;
  let otherOwner: TestUser;
  /** Merchant A's objects, made with A's secret key. */
  const a = { payment: "", captured: "", refund: "", event: "", endpoint: "" };
  /** A payment of merchant A, authorized by its issuer's decision (set in beforeAll). */
  let create: () => Promise<string>;

  beforeAll(async () => {
    // A shamir vault, so that merchant A can have live keys (the dev provider refuses them) for the mode checks.
    t = await openTestPay(
      backend,
      { keyProvider: "shamir" },
      { initKeys: async (system) => void (await (system.keys as ShamirKeyProvider).initialize(3, 2)) },
    );
    shopA = t.merchant;
    await t.system.merchants.addMode(shopA.id, "live");
    shopB = await t.createMerchant("Other Shop");
    [support, developer, owner, otherOwner] = await Promise.all([
      signedInUser(t, shopA.id, "support"),
      signedInUser(t, shopA.id, "developer"),
      signedInUser(t, shopA.id, "owner"),
      signedInUser(t, shopB.id, "owner"),
    ]);

    create = async () => {
      const created = await call<Payment>(
        t.app,
        "POST",
        "/v1/payments",
        shopA.secretKey,
        paymentBody({ orderId: `${MARK}-order`, itemName: `${MARK} item` }),
      );
      expect(created.status).toBe(200);
      await authorizeThroughService(t.system, created.body.id);
      return created.body.id;
    };
    a.payment = await create();
    a.captured = await create();
    expect((await call(t.app, "POST", `/v1/payments/${a.captured}/capture`, shopA.secretKey, {})).status).toBe(200);
    const refund = await call<{ id: string }>(t.app, "POST", `/v1/payments/${a.captured}/refunds`, shopA.secretKey, {
      amount: 1000,
      reason: `${MARK} refund`,
    });
    expect(refund.status).toBe(200);
    a.refund = refund.body.id;
    const endpoint = await call<{ id: string }>(t.app, "POST", "/v1/webhook-endpoints", shopA.secretKey, {
      url: "http://127.0.0.1:9/authz-a-only",
    });
    expect(endpoint.status).toBe(200);
    a.endpoint = endpoint.body.id;
    const events = await call<List>(t.app, "GET", "/v1/events", shopA.secretKey);
    a.event = events.body.data[0]?.id ?? "";
    expect(a.event).toMatch(/^evt_/);
  });
  afterAll(() => t.close());

  const payment = async (id: string) => (await call<Payment>(t.app, "GET", `/v1/payments/${id}`, shopA.secretKey)).body;

  it("classifies every /v1 merchant route the app registers, and nothing else", () => {
    expect([...new Set(t.app.merchantRouteKeys)].sort()).toEqual(Object.keys(PERMISSIONS).sort());
    // A route nobody classified stops the app from starting.
    const app = Fastify();
    app.addHook("onRoute", (route) => void classifyRoute(route.method, route.url));
    expect(() => app.get("/v1/unclassified", async () => ({}))).toThrow(/permissions\.ts/);
  });

  it("lets support read but not refund, capture, cancel, roll keys, add endpoints, change the account or staff", async () => {
    const before = await payment(a.captured);
    const list = await call<List>(t.app, "GET", "/v1/payments", support.token);
    expect(list.status).toBe(200);
    expect(list.body.data.map((p) => p.id)).toEqual(expect.arrayContaining([a.payment, a.captured]));
    for (const url of [`/v1/refunds/${a.refund}`, `/v1/events/${a.event}`, `/v1/webhook-endpoints/${a.endpoint}`])
      expect((await call(t.app, "GET", url, support.token)).status, url).toBe(200);

    const refused: Array<[string, unknown]> = [
      [`/v1/payments/${a.captured}/refunds`, { amount: 500 }],
      [`/v1/payments/${a.payment}/capture`, {}],
      [`/v1/payments/${a.payment}/cancel`, {}],
      ["/v1/payments", paymentBody()],
      ["/v1/api-keys/roll", {}],
      ["/v1/webhook-endpoints", { url: "http://127.0.0.1:9/support" }],
      ["/v1/account", { allowedOrigins: [] }],
      ["/v1/dashboard/users", { email: "new@shop.example", name: "New", role: "owner" }],
    ];
    for (const [url, body] of refused) {
      const answer = await call<ErrorAnswer>(t.app, "POST", url, support.token, body);
      expect([answer.status, answer.body.error.code], url).toEqual([403, "permission_denied"]);
      expect(answer.body.error.message, url).toMatch(url === "/v1/dashboard/users" ? /owner role/ : /developer role/);
    }
    expect(await payment(a.captured)).toEqual(before);
    expect((await payment(a.payment)).status).toBe("authorized");
    expect((await call(t.app, "GET", "/v1/payments", shopA.secretKey)).status).toBe(200); // the key was not rolled
    const endpoints = await call<List>(t.app, "GET", "/v1/webhook-endpoints", shopA.secretKey);
    expect(endpoints.body.data.map((e) => e.id)).toEqual([a.endpoint]);
    expect(
      (await call<{ allowedOrigins: string[] }>(t.app, "GET", "/v1/account", support.token)).body.allowedOrigins,
    ).not.toEqual([]);
  });

  it("lets a developer refund, under their own name in the audit log, but not add staff", async () => {
    const refund = await call<{ id: string; amount: number }>(
      t.app,
      "POST",
      `/v1/payments/${a.captured}/refunds`,
      developer.token,
      { amount: 700 },
    );
    expect([refund.status, refund.body.amount]).toEqual([200, 700]);
    await t.system.audit.seal(); // appends reach audit_log when sealed (audit/service.ts)
    const audit = await queryRows<{ action: string; actor: string }>(
      t.system.database.db,
      sql`select action, actor from audit_log where action = 'refund.created' order by seq`,
    );
    expect(audit.map((row) => row.actor)).toEqual([`merchant:${shopA.id}`, `merchant_user:${developer.id}`]);

    for (const [method, url] of [
      ["POST", "/v1/dashboard/users"],
      ["GET", "/v1/dashboard/users"],
      ["POST", `/v1/dashboard/users/${support.id}`],
    ] as const) {
      const answer = await call<ErrorAnswer>(
        t.app,
        method,
        url,
        developer.token,
        method === "POST" ? { role: "owner", email: "x@shop.example", name: "X" } : undefined,
      );
      expect([answer.status, answer.body.error.code], url).toEqual([403, "permission_denied"]);
      expect(answer.body.error.message).toMatch(/owner role/);
    }
    const staff = await call<List>(t.app, "GET", "/v1/dashboard/users", owner.token);
    expect(staff.body.data).toHaveLength(3);
  });

  it("audits a capture and a void under whoever asked: the dashboard user or the key", async () => {
    const [toCapture, toVoid] = [await create(), await create()];
    expect(
      (await call(t.app, "POST", `/v1/payments/${toCapture}/capture`, developer.token, { amount: 2000 })).status,
    ).toBe(200);
    expect((await call(t.app, "POST", `/v1/payments/${toVoid}/cancel`, shopA.secretKey, {})).status).toBe(200);
    await t.system.audit.seal(); // appends reach audit_log when sealed (audit/service.ts)
    const audit = await queryRows<{ action: string; actor: string; data: { amount: number } }>(
      t.system.database.db,
      sql`select action, actor, data from audit_log where target in (${toCapture}, ${toVoid}) order by seq`,
    );
    expect(audit.map(({ action, actor, data }) => [action, actor, data.amount])).toEqual([
      ["payment.captured", `merchant_user:${developer.id}`, 2000],
      ["payment.voided", `merchant:${shopA.id}`, (await payment(toVoid)).amount],
    ]);
  });

  it("lets an owner add staff (a temporary password shown once) and refund; never demote the last owner", async () => {
    const added = await call<{ id: string; role: string; temporaryPassword: string }>(
      t.app,
      "POST",
      "/v1/dashboard/users",
      owner.token,
      { email: "New.Support@Shop.Example", name: "New Support", role: "support" },
    );
    expect([added.status, added.body.role]).toEqual([200, "support"]);
    const first = await call<{ factor: string }>(t.app, "POST", "/v1/dashboard/sign-in", null, {
      email: "new.support@shop.example",
      password: added.body.temporaryPassword,
    });
    expect([first.status, first.body.factor]).toEqual([200, "totp_setup"]);
    const listed = JSON.stringify((await call(t.app, "GET", "/v1/dashboard/users", owner.token)).body);
    expect(listed).toContain(added.body.id);
    expect(listed).not.toContain(added.body.temporaryPassword);
    const again = await call<ErrorAnswer>(t.app, "POST", "/v1/dashboard/users", owner.token, {
      email: "new.support@shop.example",
      name: "Twice",
      role: "support",
    });
    expect([again.status, again.body.error.code]).toEqual([409, "merchant_user_exists"]);

    const refund = await call(t.app, "POST", `/v1/payments/${a.captured}/refunds`, owner.token, { amount: 300 });
    expect(refund.status).toBe(200);

    const demoted = await call<ErrorAnswer>(t.app, "POST", `/v1/dashboard/users/${owner.id}`, owner.token, {
      role: "developer",
    });
    expect([demoted.status, demoted.body.error.code]).toEqual([409, "last_owner"]);
    const disabled = await call<ErrorAnswer>(t.app, "POST", `/v1/dashboard/users/${owner.id}`, owner.token, {
      disabled: true,
    });
    expect([disabled.status, disabled.body.error.code]).toEqual([409, "last_owner"]);
    const promoted = await call<{ role: string }>(t.app, "POST", `/v1/dashboard/users/${added.body.id}`, owner.token, {
      role: "developer",
    });
    expect([promoted.status, promoted.body.role]).toEqual([200, "developer"]);

    await t.system.audit.seal(); // appends reach audit_log when sealed (audit/service.ts)
    const audit = await queryRows<{ action: string; actor: string }>(
      t.system.database.db,
      sql`select action, actor from audit_log where target = ${added.body.id} order by seq`,
    );
    expect(audit).toEqual([
      { action: "merchant_user.created", actor: `merchant_user:${owner.id}` },
      { action: "merchant_user.updated", actor: `merchant_user:${owner.id}` },
    ]);
  });

  it("keeps staff management and the user's own routes from API keys", async () => {
    for (const [method, url] of [
      ["GET", "/v1/dashboard/users"],
      ["POST", "/v1/dashboard/users"],
      ["GET", "/v1/dashboard/me"],
    ] as const) {
      const answer = await call<ErrorAnswer>(t.app, method, url, shopA.secretKey, method === "POST" ? {} : undefined);
      expect([answer.status, answer.body.error.code], url).toEqual([403, "dashboard_session_required"]);
    }
  });

  it("shows another merchant's user none of A's objects, route by route over every GET route", async () => {
    const idFor: Record<string, string> = {
      "/v1/payments/:id": a.payment,
      "/v1/payments/:id/refunds": a.captured,
      "/v1/payments/:id/timeline": a.captured,
      "/v1/refunds/:id": a.refund,
      "/v1/events/:id": a.event,
      "/v1/webhook-endpoints/:id": a.endpoint,
      "/v1/webhook-endpoints/:id/deliveries": a.endpoint,
      // Making a mandate takes a payer's device, card and PIN (authorizations.test.ts); the store scopes by merchant.
      "/v1/mandates/:id": newId("recurringMandate"),
      "/v1/dashboard/users/:id": owner.id,
    };
    const aIds = [a.payment, a.captured, a.refund, a.event, a.endpoint, support.id, developer.id, owner.id, shopA.id];
    const getRoutes = [...new Set(t.app.merchantRouteKeys)].filter((k) => k.startsWith("GET ")).map((k) => k.slice(4));
    expect(getRoutes.length).toBeGreaterThanOrEqual(12);
    for (const route of getRoutes) {
      if (!route.includes(":")) {
        const answer = await call(t.app, "GET", route, otherOwner.token);
        expect(answer.status, route).toBe(200);
        for (const id of aIds) expect(answer.raw, `${route} shows ${id}`).not.toContain(id);
        expect(answer.raw, route).not.toContain(MARK);
        continue;
      }
      const id = idFor[route];
      if (!id) throw new Error(`the authorization test needs one of merchant A's ids for ${route}`);
      const answer = await call<ErrorAnswer>(t.app, "GET", route.replace(":id", id), otherOwner.token);
      expect(answer.status, route).toBe(404);
      expect(answer.body.error.code, route).toMatch(/^(resource_missing|payment_not_found)$/);
      expect(answer.raw, route).not.toContain(MARK);
      expect(answer.raw, route).not.toContain("authz-a-only");
    }

    // Nor may B's user act on A's objects: each is not found, and nothing changed.
    const before = await payment(a.captured);
    for (const [url, body] of [
      [`/v1/payments/${a.captured}/refunds`, { amount: 100 }],
      [`/v1/payments/${a.payment}/capture`, {}],
      [`/v1/payments/${a.payment}/cancel`, {}],
      [`/v1/dashboard/users/${developer.id}`, { role: "support" }],
    ] as const) {
      const answer = await call<ErrorAnswer>(t.app, "POST", url, otherOwner.token, body);
      expect(answer.status, url).toBe(404);
    }
    const deleted = await call(t.app, "DELETE", `/v1/webhook-endpoints/${a.endpoint}`, otherOwner.token);
    expect(deleted.status).toBe(404);
    expect(await payment(a.captured)).toEqual(before);
    expect((await payment(a.payment)).status).toBe("authorized");
    const staff = await call<{ data: Array<{ id: string; role: string }> }>(
      t.app,
      "GET",
      "/v1/dashboard/users",
      owner.token,
    );
    expect(staff.body.data.find((u) => u.id === developer.id)?.role).toBe("developer");
  });

  it("keeps test and live apart with MPay-Mode, and refuses live to a merchant without live keys", async () => {
    const live = { "mpay-mode": "live" };
    const list = await call<List>(t.app, "GET", "/v1/payments", developer.token, undefined, live);
    expect([list.status, list.body.data]).toEqual([200, []]);
    const one = await call<ErrorAnswer>(t.app, "GET", `/v1/payments/${a.payment}`, developer.token, undefined, live);
    expect(one.status).toBe(404);
    const endpoints = await call<List>(t.app, "GET", "/v1/webhook-endpoints", developer.token, undefined, live);
    expect(endpoints.body.data).toEqual([]);
    const test = await call<List>(t.app, "GET", "/v1/payments", developer.token, undefined, { "mpay-mode": "test" });
    expect(test.body.data.map((p) => p.id)).toContain(a.payment);

    const bad = await call<ErrorAnswer>(t.app, "GET", "/v1/payments", developer.token, undefined, {
      "mpay-mode": "prod",
    });
    expect([bad.status, bad.body.error.code]).toEqual([400, "parameter_invalid"]);
    const noLive = await call<ErrorAnswer>(t.app, "GET", "/v1/payments", otherOwner.token, undefined, live);
    expect([noLive.status, noLive.body.error.code]).toEqual([403, "live_mode_forbidden"]);
  });
});
