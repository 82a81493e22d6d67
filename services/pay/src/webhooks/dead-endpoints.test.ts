/**
 * Webhooks to dead endpoints (issue 12): retries back off up to an hour apart for 3 days, and an endpoint whose
 * every delivery failed for 3 days is disabled, with an event, an audit entry and its pending deliveries failed.
 * Days pass on a TestClock the worker schedules by: nothing here sleeps.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { newId } from "@mpay/protocol";
import { TestClock } from "@mpay/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { call, openTestPay, type TestPay } from "../testing/system.ts";
import { AUTO_DISABLE_AFTER_MS } from "./endpoint-health.ts";
import { emitEvent } from "./events.ts";
import { nextAttemptAt, RETRY_HORIZON_MS, retryDelayMs } from "./worker.ts";

const HOUR = 3600;
const DAY = 24 * HOUR;

/** A merchant's receiver on loopback answering `status` (changed by the test), recording the event types sent. */
async function receiver(initial: number) {
  const types: string[] = [];
  const state = { status: initial };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      types.push((JSON.parse(body) as { type: string }).type);
      res.writeHead(state.status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    types,
    state,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

interface Endpoint {
  id: string;
  status: "enabled" | "disabled";
  disabledAt: string | null;
  disabledReason: string | null;
  failingSince: string | null;
}

describe("retry schedule of a failing delivery", () => {
  const s = { baseDelayMs: 10_000, maxDelayMs: 3_600_000 };

  it("grows exponentially from 10 s, is capped at an hour, and jitters within half the ceiling", () => {
    const ceilings = Array.from({ length: 14 }, (_, i) => retryDelayMs(i + 1, s, () => 1));
    expect(ceilings.slice(0, 9)).toEqual([
      10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000, 2_560_000,
    ]);
    expect(ceilings.slice(9)).toEqual(Array(5).fill(3_600_000));
    expect(retryDelayMs(60, s, () => 0)).toBe(1_800_000);
    for (let n = 1; n < 40; n++)
      expect(retryDelayMs(n + 1, s, () => 1)).toBeGreaterThanOrEqual(retryDelayMs(n, s, () => 1));
  });

  it("retries until 3 days after the delivery was made, and no further", () => {
    const createdAt = new Date("2026-01-01T00:00:00Z");
    const settings = { ...s, timeoutMs: 1, pollIntervalMs: 1, batchSize: 1 };
    const at = (ms: number) => new Date(createdAt.getTime() + ms);
    expect(nextAttemptAt({ attempts: 50, createdAt }, at(RETRY_HORIZON_MS - 3_600_000), settings, () => 1)).toEqual(
      at(RETRY_HORIZON_MS),
    );
    expect(nextAttemptAt({ attempts: 50, createdAt }, at(RETRY_HORIZON_MS - 60_000), settings, () => 0)).toBeNull();
    // Attempts alone never end it: a delivery an hour old with 1000 failures still retries.
    expect(nextAttemptAt({ attempts: 1000, createdAt }, at(3_600_000), settings)).not.toBeNull();
    expect(nextAttemptAt({ attempts: 3, createdAt }, at(0), { ...settings, maxAttempts: 3 })).toBeNull();
  });
});

describe.each(testBackends())("dead webhook endpoints [%s]", (backend) => {
  let t: TestPay;
  const clock = new TestClock();
  let dead: Awaited<ReturnType<typeof receiver>>;
  let alive: Awaited<ReturnType<typeof receiver>>;

  beforeAll(async () => {
    t = await openTestPay(backend, {
      clock,
      webhooks: {
        // The horizon runs from a delivery's creation in database time, which the TestClock does not move: here it
        // is long, so that one event keeps its delivery retrying hourly while the clock moves days (the horizon
        // itself is tested above).
        retryForMs: 30 * DAY * 1000,
        baseDelayMs: 1000,
        maxDelayMs: 3_600_000,
        timeoutMs: 2000,
        pollIntervalMs: 10,
        batchSize: 50,
      },
    });
    dead = await receiver(500);
    alive = await receiver(204);
  });
  afterAll(async () => {
    await dead?.close();
    await alive?.close();
    await t?.close();
  });

  const post = <T>(path: string, body: unknown, key: string) =>
    call<T>(t.app, "POST", path, t.merchant.secretKey, body, { "idempotency-key": key });
  const create = async (url: string, key: string) => (await post<Endpoint>("/v1/webhook-endpoints", { url }, key)).body;
  const read = async (id: string) =>
    (await call<Endpoint>(t.app, "GET", `/v1/webhook-endpoints/${id}`, t.merchant.secretKey)).body;
  /** A payment event, through the real outbox (one delivery per enabled endpoint, in the event's transaction). */
  const emit = () =>
    t.system.database.db.transaction((tx) =>
      emitEvent(tx, {
        merchantId: t.merchant.id,
        mode: "test",
        type: "payment.captured",
        data: { payment: { id: "pay_dead" } },
      }),
    );
  const deliveries = (endpointId: string) =>
    queryRows<{ status: string; last_error: string | null; event_id: string }>(
      t.system.database.db,
      sql`select status, last_error, event_id from webhook_deliveries where endpoint_id = ${endpointId}`,
    );
  const auditOf = async (target: string) => {
    await t.system.audit.seal();
    return queryRows<{ action: string; actor: string; data: unknown }>(
      t.system.database.db,
      sql`select action, actor, data from audit_log where target = ${target} order by seq`,
    );
  };
  /** Moves the clock an hour at a time, running the worker each hour, for `hours` or until `until`. */
  const hoursPass = async (hours: number, until: () => Promise<boolean> = async () => false) => {
    for (let h = 0; h < hours; h++) {
      clock.advance(HOUR);
      await t.system.deliveryWorker.runOnce();
      if (await until()) return h + 1;
    }
    return hours;
  };

  it("disables an endpoint failing for 3 days: event to the other endpoints, audit entry, pending ones failed", async () => {
    const endpoint = await create(dead.url, "dead-1");
    const other = await create(alive.url, "alive-1");
    await emit();
    const firstFailure = clock.now();
    await t.system.deliveryWorker.runOnce();
    const failing = await read(endpoint.id);
    expect(failing.status).toBe("enabled");
    const since = Date.parse(failing.failingSince!);
    expect(Math.abs(since - firstFailure.getTime())).toBeLessThan(60_000);

    // Still enabled a little before the threshold, disabled once it has passed.
    await hoursPass(3 * 24 - 2);
    expect((await read(endpoint.id)).status).toBe("enabled");
    await hoursPass(6, async () => (await read(endpoint.id)).status === "disabled");
    const disabled = await read(endpoint.id);
    expect(disabled).toMatchObject({ status: "disabled", disabledReason: "auto_disabled" });
    const after = Date.parse(disabled.disabledAt!) - since;
    expect(after).toBeGreaterThanOrEqual(AUTO_DISABLE_AFTER_MS);
    expect(after).toBeLessThan(AUTO_DISABLE_AFTER_MS + 2 * HOUR * 1000);

    // Its deliveries all ended: none pending, the ones cut short say why.
    const rows = await deliveries(endpoint.id);
    expect(rows.filter((r) => r.status === "pending")).toEqual([]);
    expect(rows.some((r) => r.last_error?.startsWith("endpoint disabled: failing since"))).toBe(true);

    // The merchant is told: the event is listed, and goes to its other endpoint but not to the dead one.
    const events = await call<{ data: { id: string; data: { webhookEndpoint: Record<string, string> } }[] }>(
      t.app,
      "GET",
      "/v1/events?type=webhook_endpoint.disabled",
      t.merchant.secretKey,
    );
    expect(events.body.data).toHaveLength(1);
    const event = events.body.data[0]!;
    expect(event.data.webhookEndpoint).toEqual({
      id: endpoint.id,
      url: dead.url,
      reason: "auto_disabled",
      disabledAt: disabled.disabledAt,
      failingSince: failing.failingSince,
    });
    await t.system.deliveryWorker.runOnce();
    expect(alive.types).toContain("webhook_endpoint.disabled");
    expect(dead.types).not.toContain("webhook_endpoint.disabled");
    expect((await deliveries(endpoint.id)).some((r) => r.event_id === event.id)).toBe(false);
    expect((await deliveries(other.id)).filter((r) => r.event_id === event.id)).toMatchObject([
      { status: "succeeded" },
    ]);

    // Audited, by the system, with why.
    const audit = await auditOf(endpoint.id);
    expect(audit.map((a) => [a.action, a.actor])).toContainEqual(["webhook_endpoint.disabled", "system"]);
    expect(JSON.stringify(audit.find((a) => a.action === "webhook_endpoint.disabled")?.data)).toContain(
      "auto_disabled",
    );

    // Nothing more is attempted to it, however much time passes.
    const attempts = dead.types.length;
    await hoursPass(30);
    expect(dead.types.length).toBe(attempts);

    // Fixed and enabled again: a fresh clock, and new events reach it.
    dead.state.status = 204;
    const enabled = await post<Endpoint>(`/v1/webhook-endpoints/${endpoint.id}/enable`, {}, "enable-1");
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({
      status: "enabled",
      disabledAt: null,
      disabledReason: null,
      failingSince: null,
    });
    expect((await auditOf(endpoint.id)).map((a) => a.action)).toContain("webhook_endpoint.enabled");
    const resumed = await emit();
    await t.system.deliveryWorker.runOnce();
    expect((await deliveries(endpoint.id)).filter((r) => r.event_id === resumed)).toMatchObject([
      { status: "succeeded" },
    ]);
    // Enabling an enabled endpoint changes nothing; an unknown one is a 404 that changes nothing.
    expect((await post<Endpoint>(`/v1/webhook-endpoints/${endpoint.id}/enable`, {}, "enable-2")).body.status).toBe(
      "enabled",
    );
    const missing = await post<{ error: { code: string } }>(
      `/v1/webhook-endpoints/${newId("webhookEndpoint")}/enable`,
      {},
      "enable-3",
    );
    expect([missing.status, missing.body.error.code]).toEqual([404, "resource_missing"]);
  });

  it("a success before the threshold resets the failing-since clock", async () => {
    const flaky = await receiver(500);
    try {
      const endpoint = await create(flaky.url, "flaky-1");
      await emit();
      await hoursPass(2 * 24);
      const before = await read(endpoint.id);
      expect(before.failingSince).not.toBeNull();
      flaky.state.status = 204;
      await hoursPass(2);
      expect((await read(endpoint.id)).failingSince).toBeNull();
      // Two more days of failures: four since the first, but only two since the success.
      flaky.state.status = 500;
      await emit();
      await hoursPass(2 * 24);
      const after = await read(endpoint.id);
      expect(after.status).toBe("enabled");
      expect(Date.parse(after.failingSince!)).toBeGreaterThan(Date.parse(before.failingSince!) + 2 * DAY * 1000);
    } finally {
      await flaky.close();
    }
  });
});
