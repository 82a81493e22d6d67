import { createServer, type Server } from "node:http";
import { createPublicKey, verify as verifySignature } from "node:crypto";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { authorizeThroughService, call, openTestPay, paymentBody, type TestPay } from "../testing/system.ts";
import type { MerchantAuth } from "../merchants/service.ts";
import { retryDelayMs } from "./worker.ts";

interface Received {
  headers: Record<string, string>;
  body: string;
}

/** A merchant's webhook receiver on loopback; `failNext` makes the next requests answer 500. */
async function receiver(): Promise<{
  url: string;
  received: Received[];
  failNext: (n: number) => void;
  close: () => Promise<void>;
}> {
  const received: Received[] = [];
  let failures = 0;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ headers: req.headers as Record<string, string>, body });
      if (failures > 0) {
        failures--;
        res.writeHead(500).end("nope");
      } else res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    failNext: (n) => (failures = n),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe.each(testBackends())("webhook delivery [%s]", (backend) => {
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

  const drain = async () => {
    // Run the worker until nothing is due (retries here are milliseconds apart).
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 10));
      const [row] = await queryRows<{ n: number }>(
        t.system.database.db,
        sql`select count(*)::int as n from webhook_deliveries where status = 'pending'`,
      );
      if (Number(row?.n) === 0) return;
      await t.system.deliveryWorker.runOnce();
    }
  };

  it("signs events in the Standard Webhooks format, v1 and v1a, and retries failures", async () => {
    const create = () =>
      call<{ id: string; v1aPublicKey: string }>(
        t.app,
        "POST",
        "/v1/webhook-endpoints",
        t.merchant.secretKey,
        { url: hook.url, signatures: ["v1", "v1a"] },
        {
          "idempotency-key": "endpoint-1",
        },
      );
    const endpoint = await create();
    expect(endpoint.status).toBe(200);
    // A repeated create is a replay: one endpoint, so every event is delivered once.
    expect((await create()).raw).toBe(endpoint.raw);
    expect(
      (await call<{ data: unknown[] }>(t.app, "GET", "/v1/webhook-endpoints", t.merchant.secretKey)).body.data,
    ).toHaveLength(1);
    expect(endpoint.raw).not.toContain(t.merchant.webhookSecret.slice(6));
    expect(endpoint.body.v1aPublicKey).toMatch(/^whpk_/);

    const { body: payment } = await call<{ id: string }>(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody(),
    );
    await authorizeThroughService(t.system, payment.id);
    await call(t.app, "POST", `/v1/payments/${payment.id}/capture`, t.merchant.secretKey, {});
    hook.failNext(2);
    await drain();

    const verifier = new Webhook(t.merchant.webhookSecret);
    const delivered = hook.received.filter((_, i) => i >= 2);
    const types = delivered.map((m) => (verifier.verify(m.body, m.headers) as { type: string }).type).sort();
    expect(types).toEqual(["payment.authorized", "payment.captured"]);
    // The failed attempts and their retry carry the same webhook-id.
    const ids = hook.received.map((m) => m.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(2);
    // v1a: verifiable with the endpoint's public key alone.
    const publicKey = createPublicKey({
      key: {
        kty: "OKP",
        crv: "Ed25519",
        x: Buffer.from(endpoint.body.v1aPublicKey.slice(5), "base64").toString("base64url"),
      },
      format: "jwk",
    });
    for (const m of delivered) {
      const v1a = m.headers["webhook-signature"]!.split(" ").find((s) => s.startsWith("v1a,"))!;
      const signed = Buffer.from(`${m.headers["webhook-id"]}.${m.headers["webhook-timestamp"]}.${m.body}`);
      expect(verifySignature(null, signed, publicKey, Buffer.from(v1a.slice(4), "base64"))).toBe(true);
    }
    const deliveries = await call<{ data: Array<{ status: string; attempts: number }> }>(
      t.app,
      "GET",
      `/v1/webhook-endpoints/${endpoint.body.id}/deliveries`,
      t.merchant.secretKey,
    );
    expect(deliveries.body.data.every((d) => d.status === "succeeded")).toBe(true);
    // Nothing secret went over the wire.
    for (const m of hook.received) {
      expect(JSON.stringify(m)).not.toContain(t.merchant.secretKey);
      expect(JSON.stringify(m)).not.toContain(t.merchant.webhookSecret.slice(6));
    }
  });

  it("gives up after the maximum attempts, shows the failure and re-sends on request", async () => {
    const before = hook.received.length;
    hook.failNext(3);
    const { body: payment } = await call<{ id: string }>(
      t.app,
      "POST",
      "/v1/payments",
      t.merchant.secretKey,
      paymentBody(),
    );
    await call(t.app, "POST", `/v1/payments/${payment.id}/cancel`, t.merchant.secretKey, {});
    await drain();
    expect(hook.received.length - before).toBe(3);
    const endpoints = await call<{ data: Array<{ id: string }> }>(
      t.app,
      "GET",
      "/v1/webhook-endpoints",
      t.merchant.secretKey,
    );
    const endpointId = endpoints.body.data[0]!.id;
    const failed = await call<{
      data: Array<{ id: string; attempts: number; lastStatusCode: number; lastError: string }>;
    }>(t.app, "GET", `/v1/webhook-endpoints/${endpointId}/deliveries?status=failed`, t.merchant.secretKey);
    expect(failed.body.data).toHaveLength(1);
    expect(failed.body.data[0]).toMatchObject({ attempts: 3, lastStatusCode: 500 });
    const retried = await call<{ status: string }>(
      t.app,
      "POST",
      `/v1/webhook-deliveries/${failed.body.data[0]!.id}/retry`,
      t.merchant.secretKey,
    );
    expect(retried.body.status).toBe("pending");
    await drain();
    const last = hook.received.at(-1)!;
    expect((new Webhook(t.merchant.webhookSecret).verify(last.body, last.headers) as { type: string }).type).toBe(
      "payment.canceled",
    );
    const again = await call<{ error: { code: string } }>(
      t.app,
      "POST",
      `/v1/webhook-deliveries/${failed.body.data[0]!.id}/retry`,
      t.merchant.secretKey,
    );
    expect([again.status, again.body.error.code]).toEqual([409, "delivery_not_retryable"]);
  });

  it("sends nothing more to a disabled endpoint; its pending deliveries end failed", async () => {
    const merchant = await t.createMerchant("Disabler");
    const endpoint = await call<{ id: string }>(t.app, "POST", "/v1/webhook-endpoints", merchant.secretKey, {
      url: hook.url,
    });
    const { body: payment } = await call<{ id: string }>(
      t.app,
      "POST",
      "/v1/payments",
      merchant.secretKey,
      paymentBody(),
    );
    await call(t.app, "POST", `/v1/payments/${payment.id}/cancel`, merchant.secretKey);
    const before = hook.received.length;
    await call(t.app, "DELETE", `/v1/webhook-endpoints/${endpoint.body.id}`, merchant.secretKey);
    await t.system.deliveryWorker.runOnce();
    expect(hook.received.length).toBe(before);
    const failed = await call<{ data: Array<{ lastError: string }> }>(
      t.app,
      "GET",
      `/v1/webhook-endpoints/${endpoint.body.id}/deliveries?status=failed`,
      merchant.secretKey,
    );
    expect(failed.body.data.map((d) => d.lastError)).toEqual(["endpoint disabled"]);
  });

  it("refuses webhook URLs that are not allowed for the mode", async () => {
    const bad = await call<{ error: { code: string } }>(t.app, "POST", "/v1/webhook-endpoints", t.merchant.secretKey, {
      url: "http://10.0.0.5/hook",
    });
    expect([bad.status, bad.body.error.code]).toEqual([400, "webhook_url_private"]);
    const live: MerchantAuth = {
      merchantId: t.merchant.id,
      mode: "live",
      keyId: "key_x",
      actor: `merchant:${t.merchant.id}`,
      merchant: { id: t.merchant.id, name: "x", displayName: "x", allowedOrigins: [] },
    };
    const createLive = (url: string) =>
      t.system.database.db.transaction((tx) => t.system.webhooks.createEndpoint(tx, live, { url }));
    await expect(createLive(hook.url)).rejects.toMatchObject({ code: "webhook_url_private" });
    await expect(createLive("http://hooks.example.com/x")).rejects.toMatchObject({ code: "webhook_url_insecure" });
    const unknownEvent = await call<{ error: { code: string } }>(
      t.app,
      "POST",
      "/v1/webhook-endpoints",
      t.merchant.secretKey,
      { url: hook.url, enabledEvents: ["payment.exploded"] },
    );
    expect(unknownEvent.body.error.code).toBe("parameter_invalid");
  });
});

describe("retry schedule", () => {
  it("backs off exponentially with jitter, capped", () => {
    const s = { baseDelayMs: 10_000, maxDelayMs: 3_600_000 };
    expect(retryDelayMs(1, s, () => 0)).toBe(5_000);
    expect(retryDelayMs(1, s, () => 1)).toBe(10_000);
    expect(retryDelayMs(4, s, () => 1)).toBe(80_000);
    expect(retryDelayMs(30, s, () => 1)).toBe(3_600_000);
  });
});
