/**
 * The authorization matrix (issue 12, authorization-matrix.ts) checked cell by cell: every route the app registers
 * (Fastify's own route table, so a new route fails here until the matrix lists it) × every caller, each call aimed
 * at merchant A's and payer A's real objects, against the outcome the matrix writes down.
 * `MPAY_WRITE_MATRIX=1` prints what the server answers instead, as the matrix's text, for a reviewer to compare.
 */
import { writeFile } from "node:fs/promises";
import { Secret } from "@mpay/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentCode } from "../credentials/totp.ts";
import { testBackends } from "../testing/databases.ts";
import { signedInUser } from "../testing/dashboard-users.ts";
import {
  authorizeThroughService,
  call,
  openTestPay,
  paymentBody,
  signedInPayer,
  type TestPay,
} from "../testing/system.ts";
import { AUTHORIZATION_MATRIX, CALLERS, type Caller, type Outcome } from "./authorization-matrix.ts";

/**
 * `METHOD /path` of every route in Fastify's table: its printed tree, each line's segment appended to its parent's.
 * HEAD is answered by the GET route and OPTIONS by CORS's preflight, so neither is a row of its own.
 */
function routeTable(tree: string): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split("\n")) {
    const match = /^((?:│ {3}| {4})*)[├└]── (.+?)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? "").length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? "") + (match[2] ?? "");
    stack.push(path);
    for (const method of (match[3] ?? "").split(", ").filter(Boolean))
      if (method !== "HEAD" && method !== "OPTIONS") routes.push(`${method} ${path}`);
  }
  return routes;
}

/** The payer's routes that come before a session (the rest of /v1/payer needs one: payers/session.ts). */
const PAYER_SIGN_IN = ["POST /v1/payer/auth/start", "GET /v1/payer/auth/callback", "POST /v1/payer/auth/exchange"];
const PAYER_CALLERS: readonly Caller[] = ["payerSession", "otherPayerSession"];

/** Runs last: a sign-out ends the caller's session, which the other rows still need. */
const endsSession = (route: string) => route.includes("/sign-out");

describe.each(testBackends())("the authorization matrix [%s]", (backend) => {
  let t: TestPay;
  const tokens = {} as Record<Caller, string | null>;
  /** Merchant A's and payer A's objects a route's `:id` names; another merchant for the console's suspensions. */
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await openTestPay(backend);
    const other = await t.createMerchant("Other Shop");
    const bystander = await t.createMerchant("Bystander Shop");
    const [payer, otherPayer, support] = await Promise.all([
      signedInPayer(t.system, "Payer A"),
      signedInPayer(t.system, "Payer B"),
      signedInUser(t, t.merchant.id, "support"),
    ]);
    const password = "staff password 1";
    await t.system.staff.create({
      email: "admin@mpay.example",
      name: "Admin",
      role: "admin",
      actor: "operator:test",
      password: new Secret(password),
    });
    const first = await call<{ challenge: string; totpSetup: { secret: string } }>(
      t.app,
      "POST",
      "/v1/staff/sign-in",
      null,
      { email: "admin@mpay.example", password },
    );
    const staff = await call<{ token: string }>(t.app, "POST", "/v1/staff/sign-in/totp", null, {
      challenge: first.body.challenge,
      code: currentCode(first.body.totpSetup.secret, t.config.clock.now()),
    });
    Object.assign(tokens, {
      none: null,
      garbageKey: "sk_test_garbage0000000000000000",
      publishableKey: t.merchant.publishableKey,
      otherMerchantKey: other.secretKey,
      payerSession: payer.token,
      otherPayerSession: otherPayer.token,
      supportUser: support.token,
      staff: staff.body.token,
    } satisfies Record<Caller, string | null>);

    const key = t.merchant.secretKey;
    const payment = await call<{ id: string }>(t.app, "POST", "/v1/payments", key, paymentBody());
    const captured = await call<{ id: string }>(t.app, "POST", "/v1/payments", key, paymentBody({ orderId: "o-2" }));
    await authorizeThroughService(t.system, captured.body.id);
    await call(t.app, "POST", `/v1/payments/${captured.body.id}/capture`, key, {});
    const refund = await call<{ id: string }>(t.app, "POST", `/v1/payments/${captured.body.id}/refunds`, key, {
      amount: 100,
    });
    const endpoint = await call<{ id: string }>(t.app, "POST", "/v1/webhook-endpoints", key, {
      url: "http://127.0.0.1:9/matrix",
    });
    const events = await call<{ data: Array<{ id: string }> }>(t.app, "GET", "/v1/events", key);
    Object.assign(ids, {
      payment: payment.body.id,
      captured: captured.body.id,
      refund: refund.body.id,
      endpoint: endpoint.body.id,
      event: events.body.data[0]?.id ?? "",
      bystander: bystander.id,
    });
    for (const [name, id] of Object.entries(ids)) expect(id, name).toMatch(/^[a-z]+_[0-9A-Z]{26}$/);
    expect(staff.status).toBe(200);
  }, 60_000);
  afterAll(() => t.close());

  /** A route's URL with its parameters naming A's objects (a well-formed id of nothing where A has none). */
  const urlOf = (path: string): string =>
    path
      .replace(/^\/v1\/payments\/:id/, `/v1/payments/${ids["payment"]}`)
      .replace(/^\/v1\/refunds\/:id/, `/v1/refunds/${ids["refund"]}`)
      .replace(/^\/v1\/webhook-endpoints\/:id/, `/v1/webhook-endpoints/${ids["endpoint"]}`)
      .replace(/^\/v1\/events\/:id/, `/v1/events/${ids["event"]}`)
      .replace(/^\/v1\/staff\/merchants\/:id/, `/v1/staff/merchants/${ids["bystander"]}`)
      .replace(/^\/v1\/(checkout|checkout-status)\/:(id|paymentId)/, `/v1/$1/${ids["payment"]}`)
      .replace(/:[A-Za-z]+/g, "xxx_01AAAAAAAAAAAAAAAAAAAAAAAA");

  /** What the server answered one caller on one route, in the matrix's words, and whether it showed A's objects. */
  const outcome = async (route: string, caller: Caller): Promise<{ outcome: Outcome; leaked: boolean }> => {
    const [method, path = ""] = route.split(" ");
    // A key roll keeps the old key for a week: the cell checks who may roll, not what rolling does.
    const body =
      method === "GET" || method === "DELETE"
        ? undefined
        : route === "POST /v1/api-keys/roll"
          ? { expiresInSeconds: 604_800 }
          : {};
    const answer = await call<{ error?: { code: string } }>(t.app, method as "GET", urlOf(path), tokens[caller], body);
    // Only merchant A's support user sees A's objects; the hosted checkout's routes take the payment id as capability,
    // and MPay's own staff see the merchants in the console.
    const mayShowA =
      caller === "supportUser" ||
      path.startsWith("/v1/checkout") ||
      (caller === "staff" && path.startsWith("/v1/staff/"));
    const leaked = answer.status < 300 && !mayShowA && Object.values(ids).some((id) => answer.raw.includes(id));
    if (answer.status < 400) return { outcome: "allowed", leaked };
    return { outcome: `${answer.status} ${answer.body.error?.code ?? "?"}` as Outcome, leaked };
  };

  it("lists every route the app registers, and only those", () => {
    const routes = routeTable(t.app.printRoutes({ commonPrefix: false }));
    expect(routes).toContain("GET /v1/staff/merchants");
    expect(routes).toContain("GET /v1/payments/:id/timeline");
    expect([...new Set(routes)].sort()).toEqual(Object.keys(AUTHORIZATION_MATRIX).sort());
  });

  it("has every payer route refuse a caller without a payer session with 401, before reading its input", () => {
    // So a 400 (which tells the body's shape) or anything else before the 401 fails here, and its cells below.
    const payerRoutes = Object.keys(AUTHORIZATION_MATRIX).filter((route) => route.includes(" /v1/payer/"));
    expect(payerRoutes.length).toBeGreaterThan(30);
    const refusedBefore: string[] = [];
    for (const route of payerRoutes.filter((r) => !PAYER_SIGN_IN.includes(r)))
      for (const caller of CALLERS.filter((c) => !PAYER_CALLERS.includes(c)))
        if (AUTHORIZATION_MATRIX[route]?.[caller] !== "401 payer_session_invalid")
          refusedBefore.push(`${route} as ${caller}`);
    expect(refusedBefore).toEqual([]);
  });

  it("answers each caller on each route as the matrix says", async () => {
    const write = Boolean(process.env["MPAY_WRITE_MATRIX"]);
    const listed = write ? routeTable(t.app.printRoutes({ commonPrefix: false })) : Object.keys(AUTHORIZATION_MATRIX);
    const routes = [...new Set(listed)].sort((a, b) => Number(endsSession(a)) - Number(endsSession(b)));
    const seen: Record<string, Record<Caller, Outcome>> = {};
    const wrong: string[] = [];
    for (const route of routes) {
      const row = {} as Record<Caller, Outcome>;
      for (const caller of CALLERS) {
        const seenCell = await outcome(route, caller);
        row[caller] = seenCell.outcome;
        if (seenCell.leaked) wrong.push(`${route} as ${caller}: showed merchant A's objects`);
        const expected = AUTHORIZATION_MATRIX[route]?.[caller];
        if (row[caller] !== expected)
          wrong.push(`${route} as ${caller}: answered ${row[caller]}, matrix says ${expected}`);
      }
      seen[route] = row;
    }
    if (write) await writeFile("/tmp/authorization-matrix.json", `${JSON.stringify(seen, null, 2)}\n`);
    else expect(wrong).toEqual([]);
  }, 60_000);
});
