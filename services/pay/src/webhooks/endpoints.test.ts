/**
 * Webhook endpoints as Stripe's: each has its own whsec_ secret (answered once), can be updated, test-pinged and
 * have its secret rotated with an overlap during which deliveries carry both signatures (issue 10, deliverable 5).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { authorizeThroughService, call, openTestPay, paymentBody, type TestPay } from "../testing/system.ts";

interface Received {
  headers: Record<string, string>;
  body: string;
}

/** A merchant's receiver on loopback: a real node:http server that records what it is sent. */
async function receiver(status = 200): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ headers: req.headers as Record<string, string>, body });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

interface Endpoint {
  id: string;
  url: string;
  enabledEvents: string[];
  description: string | null;
  secret?: string;
  previousSecretExpiresAt: string | null;
}
interface Delivery {
  id: string;
  object: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
}
type ErrorAnswer = { error: { code: string; param?: string } };

const verifies = (secret: string, m: Received) => {
  try {
    new Webhook(secret).verify(m.body, m.headers);
    return true;
  } catch {
    return false;
  }
};

describe.each(testBackends())("webhook endpoints [%s]", (backend) => {
  let t: TestPay;
  let hook: Awaited<ReturnType<typeof receiver>>;

  beforeAll(async () => {
    t = await openTestPay(backend, {
      webhooks: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 2000, pollIntervalMs: 10, batchSize: 20 },
    });
    hook = await receiver();
  });
  afterAll(async () => {
    await hook.close();
    await t.close();
  });

  const post = <T>(path: string, body: unknown, key?: string) =>
    call<T>(t.app, "POST", path, t.merchant.secretKey, body, key ? { "idempotency-key": key } : {});
  const create = async (body: Record<string, unknown> = {}) => {
    const answer = await post<Endpoint>("/v1/webhook-endpoints", { url: hook.url, ...body });
    expect(answer.status).toBe(200);
    return answer.body as Endpoint & { secret: string };
  };
  const drain = async () => {
    for (let i = 0; i < 50; i++) {
      const [row] = await queryRows<{ n: number }>(
        t.system.database.db,
        sql`select count(*)::int as n from webhook_deliveries where status = 'pending'`,
      );
      if (Number(row?.n) === 0) return;
      await t.system.deliveryWorker.runOnce();
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const auditActions = async (target: string) => {
    await t.system.audit.seal(); // appends reach audit_log when sealed (audit/service.ts)
    return (
      await queryRows<{ action: string }>(
        t.system.database.db,
        sql`select action from audit_log where target = ${target} order by seq`,
      )
    ).map((r) => r.action);
  };

  it("answers each endpoint's own secret at creation, and in no other answer", async () => {
    const a = await create({ description: "orders" });
    const b = await create();
    expect(a.secret).toMatch(/^whsec_/);
    expect(b.secret).not.toBe(a.secret);
    expect(a.description).toBe("orders");
    const read = await call<Endpoint>(t.app, "GET", `/v1/webhook-endpoints/${a.id}`, t.merchant.secretKey);
    expect(read.body).not.toHaveProperty("secret");
    const list = await call(t.app, "GET", "/v1/webhook-endpoints", t.merchant.secretKey);
    for (const raw of [read.raw, list.raw]) expect(raw).not.toMatch(/whsec_/);
    // Stored sealed only: neither the table nor the idempotency store nor the log holds it in clear.
    const rows = await queryRows(t.system.database.db, sql`select * from webhook_endpoints`);
    const keys = await queryRows(t.system.database.db, sql`select * from idempotency_keys`);
    for (const s of [a.secret, b.secret]) {
      expect(JSON.stringify([rows, keys, t.logLines])).not.toContain(s.slice(6));
    }
    expect(await auditActions(a.id)).toEqual(["webhook_endpoint.created"]);
  });

  it("sends a test event to one endpoint alone, signed, and answers the delivery", async () => {
    const other = await receiver(503);
    try {
      const endpoint = await create();
      const quiet = await post<Endpoint & { secret: string }>("/v1/webhook-endpoints", { url: other.url });
      const before = hook.received.length;
      const test = await post<Delivery>(`/v1/webhook-endpoints/${endpoint.id}/test`, {}, "ping-1");
      expect(test.status).toBe(200);
      expect(test.body).toMatchObject({
        object: "webhook_delivery",
        status: "succeeded",
        attempts: 1,
        lastStatusCode: 200,
      });
      expect(hook.received.length).toBe(before + 1);
      expect(other.received).toHaveLength(0);
      const message = hook.received.at(-1)!;
      expect(message.headers["webhook-id"]).toBe(test.body.id);
      // The standardwebhooks library verifies it with the endpoint's secret, and with no other.
      const event = new Webhook(endpoint.secret).verify(message.body, message.headers) as {
        type: string;
        data: { webhookEndpoint: { id: string } };
      };
      expect(event.type).toBe("webhook_endpoint.test");
      expect(event.data.webhookEndpoint.id).toBe(endpoint.id);
      expect(verifies(t.merchant.webhookSecret, message)).toBe(false);
      // A replay answers the first delivery and sends nothing.
      const replay = await post<Delivery>(`/v1/webhook-endpoints/${endpoint.id}/test`, {}, "ping-1");
      expect(replay.raw).toBe(test.raw);
      expect(hook.received.length).toBe(before + 1);

      // A failing receiver: the answer says so, after one attempt, and the delivery can be re-sent.
      const failed = await post<Delivery>(`/v1/webhook-endpoints/${quiet.body.id}/test`, {});
      expect(failed.body).toMatchObject({
        status: "failed",
        attempts: 1,
        lastStatusCode: 503,
        lastError: "status 503",
      });
      expect(verifies(quiet.body.secret, other.received[0]!)).toBe(true);
      const listed = await call<{ data: Delivery[] }>(
        t.app,
        "GET",
        `/v1/webhook-endpoints/${quiet.body.id}/deliveries?status=failed`,
        t.merchant.secretKey,
      );
      expect(listed.body.data.map((d) => d.id)).toEqual([failed.body.id]);

      await call(t.app, "DELETE", `/v1/webhook-endpoints/${quiet.body.id}`, t.merchant.secretKey);
      const disabled = await post<ErrorAnswer>(`/v1/webhook-endpoints/${quiet.body.id}/test`, {});
      expect([disabled.status, disabled.body.error.code]).toEqual([409, "webhook_endpoint_disabled"]);
      const missing = await post<ErrorAnswer>("/v1/webhook-endpoints/we_01JZZZZZZZZZZZZZZZZZZZZZZZ/test", {});
      expect([missing.status, missing.body.error.code]).toEqual([404, "resource_missing"]);
    } finally {
      await other.close();
    }
  });

  it("updates url, events and description; the url passes the same guard; audited", async () => {
    const endpoint = await create();
    const moved = await receiver();
    try {
      const updated = await post<Endpoint>(
        `/v1/webhook-endpoints/${endpoint.id}`,
        { url: moved.url, enabledEvents: ["payment.captured"], description: "captures only" },
        "update-1",
      );
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        id: endpoint.id,
        url: moved.url,
        enabledEvents: ["payment.captured"],
        description: "captures only",
      });
      expect(updated.raw).not.toMatch(/whsec_/);
      const test = await post<Delivery>(`/v1/webhook-endpoints/${endpoint.id}/test`, {});
      expect(test.body.status).toBe("succeeded");
      expect(verifies(endpoint.secret, moved.received[0]!)).toBe(true);

      const check = async (body: Record<string, unknown>, status: number, code: string, param?: string) => {
        const bad = await post<ErrorAnswer>(`/v1/webhook-endpoints/${endpoint.id}`, body);
        expect([bad.status, bad.body.error.code, bad.body.error.param]).toEqual([status, code, param]);
      };
      await check({ url: "http://10.0.0.5/hook" }, 400, "webhook_url_private", "url");
      await check({ url: "http://169.254.169.254/latest" }, 400, "webhook_url_private", "url");
      await check({ url: "ftp://hooks.example/x" }, 400, "webhook_url_invalid", "url");
      await check({ enabledEvents: ["payment.exploded"] }, 400, "parameter_invalid", "enabledEvents");
      await check({ description: "<script>" }, 400, "text_contains_markup", "description");
      await check({ secret: "whsec_mine" }, 400, "parameter_unknown", "secret");
      // Nothing changed by the refusals.
      const after = await call<Endpoint>(t.app, "GET", `/v1/webhook-endpoints/${endpoint.id}`, t.merchant.secretKey);
      expect(after.body).toMatchObject({ url: moved.url, description: "captures only" });
      expect(await auditActions(endpoint.id)).toEqual(["webhook_endpoint.created", "webhook_endpoint.updated"]);
      const other = await t.createMerchant("Someone else");
      const foreign = await call<ErrorAnswer>(t.app, "POST", `/v1/webhook-endpoints/${endpoint.id}`, other.secretKey, {
        description: "mine now",
      });
      expect([foreign.status, foreign.body.error.code]).toEqual([404, "resource_missing"]);
    } finally {
      await moved.close();
    }
  });

  it("rotates the secret: both sign during the overlap, only the new one after it", async () => {
    // A receiver of its own, so only this endpoint's deliveries arrive there.
    const own = await receiver();
    onTestFinished(() => own.close());
    const endpoint = await create({ url: own.url, enabledEvents: ["payment.authorized"] });
    const rotated = await post<Endpoint & { secret: string }>(
      `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`,
      { expiresInSeconds: 3600 },
      "rotate-1",
    );
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.secret;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(endpoint.secret);
    const overlapEnds = Date.parse(rotated.body.previousSecretExpiresAt!);
    expect(Math.abs(overlapEnds - (Date.now() + 3600_000))).toBeLessThan(60_000);
    // Its answer held a secret: a repeat is refused, not replayed.
    const again = await post<ErrorAnswer>(
      `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`,
      { expiresInSeconds: 3600 },
      "rotate-1",
    );
    expect([again.status, again.body.error.code]).toEqual([409, "idempotency_key_reused"]);

    // A real delivery (through the worker) during the overlap verifies with either secret.
    const { body: payment } = await post<{ id: string }>("/v1/payments", paymentBody());
    await authorizeThroughService(t.system, payment.id);
    const before = own.received.length;
    await drain();
    const during = own.received.slice(before);
    const authorized = during.find((m) => JSON.parse(m.body).type === "payment.authorized")!;
    expect(authorized.headers["webhook-signature"]!.split(" ").filter((s) => s.startsWith("v1,"))).toHaveLength(2);
    expect(verifies(endpoint.secret, authorized)).toBe(true);
    expect(verifies(fresh, authorized)).toBe(true);

    // The overlap ends (moved into the past, as time would): the old secret signs no more.
    await t.system.database.db.execute(
      sql`update webhook_endpoints set previous_secret_expires_at = now() - interval '1 second' where id = ${endpoint.id}`,
    );
    const test = await post<Delivery>(`/v1/webhook-endpoints/${endpoint.id}/test`, {});
    expect(test.body.status).toBe("succeeded");
    const after = own.received.at(-1)!;
    expect(after.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    expect(verifies(fresh, after)).toBe(true);
    expect(verifies(endpoint.secret, after)).toBe(false);
    const read = await call<Endpoint>(t.app, "GET", `/v1/webhook-endpoints/${endpoint.id}`, t.merchant.secretKey);
    expect(read.body.previousSecretExpiresAt).toBeNull();

    // expiresInSeconds 0: the old secret stops at once.
    const now = await post<Endpoint & { secret: string }>(`/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, {
      expiresInSeconds: 0,
    });
    expect(now.body.previousSecretExpiresAt).toBeNull();
    await post(`/v1/webhook-endpoints/${endpoint.id}/test`, {});
    const last = own.received.at(-1)!;
    expect([verifies(now.body.secret, last), verifies(fresh, last)]).toEqual([true, false]);

    for (const [body, code] of [
      [{ expiresInSeconds: 7 * 86_400 + 1 }, "parameter_invalid"],
      [{ expiresInSeconds: -1 }, "parameter_invalid"],
      [{ expiresInSeconds: 1.5 }, "parameter_invalid"],
      [{ expiresInSeconds: "soon" }, "parameter_invalid"],
      [{ overlap: 10 }, "parameter_unknown"],
    ] as const) {
      const bad = await post<ErrorAnswer>(`/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, body);
      expect([bad.status, bad.body.error.code]).toEqual([400, code]);
    }
    expect(await auditActions(endpoint.id)).toEqual([
      "webhook_endpoint.created",
      "webhook_endpoint.secret_rotated",
      "webhook_endpoint.secret_rotated",
    ]);
    const rows = await queryRows(t.system.database.db, sql`select * from webhook_endpoints`);
    expect(JSON.stringify([rows, t.logLines])).not.toContain(fresh.slice(6));
  });

  it("keeps an endpoint made before per-endpoint secrets on its merchant's secret, until it rotates", async () => {
    const merchant = await t.createMerchant("Old Shop");
    const made = await call<Endpoint & { secret: string }>(t.app, "POST", "/v1/webhook-endpoints", merchant.secretKey, {
      url: hook.url,
    });
    // As the migration leaves an older endpoint: no secret of its own.
    await t.system.database.db.execute(
      sql`update webhook_endpoints set sealed_secret = null where id = ${made.body.id}`,
    );
    const ping = () =>
      call<Delivery>(t.app, "POST", `/v1/webhook-endpoints/${made.body.id}/test`, merchant.secretKey, {});
    expect((await ping()).body.status).toBe("succeeded");
    expect(verifies(merchant.webhookSecret, hook.received.at(-1)!)).toBe(true);
    const rotated = await call<Endpoint & { secret: string }>(
      t.app,
      "POST",
      `/v1/webhook-endpoints/${made.body.id}/rotate-secret`,
      merchant.secretKey,
      {},
    );
    // Default overlap: a day, during which the merchant's secret still verifies.
    expect(Math.abs(Date.parse(rotated.body.previousSecretExpiresAt!) - (Date.now() + 86_400_000))).toBeLessThan(
      60_000,
    );
    await ping();
    const m = hook.received.at(-1)!;
    expect([verifies(merchant.webhookSecret, m), verifies(rotated.body.secret, m)]).toEqual([true, true]);
  });
});
