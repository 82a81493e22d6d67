/**
 * The events relay against the real NATS JetStream server (127.0.0.1:4222, or NATS_URL): each test run gets a
 * stream and subject prefix of its own, deleted after. Without NATS_URL nothing is published and nothing breaks.
 */
import { createServer } from "node:net";
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import pino from "pino";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { authorizeThroughService, call, openTestPay, paymentBody, type TestPay } from "../testing/system.ts";
import { EventStreamPublisher, eventStreamFromEnv, type EventStreamSettings } from "./events-relay-nats.ts";
import { DEFAULT_RELAY_SETTINGS, EventsRelay } from "./events-relay.ts";

const NATS_URL = process.env["NATS_URL"] || "nats://127.0.0.1:4222";

/** A payment authorized, captured and refunded: three events. The unpublished events' ids, oldest first. */
async function paymentLife(t: TestPay): Promise<string[]> {
  const created = await call<{ id: string }>(t.app, "POST", "/v1/payments", t.merchant.secretKey, paymentBody());
  expect(created.status).toBe(200);
  const id = created.body.id;
  await authorizeThroughService(t.system, id);
  expect((await call(t.app, "POST", `/v1/payments/${id}/capture`, t.merchant.secretKey, {})).status).toBe(200);
  expect((await call(t.app, "POST", `/v1/payments/${id}/refunds`, t.merchant.secretKey, {})).status).toBe(200);
  // Everything before was published (or, without NATS, this is the test's only payment).
  const rows = await queryRows<{ id: string }>(
    t.system.database.db,
    sql`select id from events where published_at is null order by id`,
  );
  return rows.map((r) => r.id);
}

async function unpublished(t: TestPay): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    t.system.database.db,
    sql`select count(*)::int as n from events where published_at is null`,
  );
  return Number(row?.n);
}

describe.each(testBackends())("events relay to NATS JetStream [%s]", (backend) => {
  const tag = `${backend}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const settings: EventStreamSettings = {
    natsUrl: NATS_URL,
    stream: `MPAY_TEST_${tag}`.toUpperCase(),
    subjectPrefix: `mpaytest.${tag}`,
    publishTimeoutMs: 2_000,
  };
  let t: TestPay;
  let nc: NatsConnection;
  let manager: JetStreamManager;

  beforeAll(async () => {
    t = await openTestPay(backend, { eventStream: settings });
    nc = await connect({ servers: NATS_URL });
    manager = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await manager?.streams.delete(settings.stream).catch(() => undefined);
    await nc?.close();
    await t?.close();
  });

  /** The stream's messages in order: their Nats-Msg-Id, subject and body's event id. */
  const streamed = async () => {
    const info = await manager.streams.info(settings.stream);
    const out: { msgId: string | undefined; subject: string; bodyId: string; seq: number }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await manager.streams.getMessage(settings.stream, { seq });
      if (m)
        out.push({ msgId: m.header?.get("Nats-Msg-Id"), subject: m.subject, bodyId: m.json<{ id: string }>().id, seq });
    }
    return { count: info.state.messages, messages: out };
  };

  it("publishes every event of a payment exactly once, in order, also when a crash makes it publish them twice", async () => {
    const relay = t.system.eventsRelay;
    expect(relay).not.toBeNull();
    const ids = await paymentLife(t);
    expect(ids).toHaveLength(3);
    expect(await relay!.backlog()).toBe(3);

    expect(await relay!.runOnce()).toEqual({ published: 3, duplicates: 0 });
    expect(await unpublished(t)).toBe(0);
    const first = await streamed();
    expect(first.count).toBe(3);
    expect(first.messages.map((m) => m.msgId)).toEqual(ids);
    expect(first.messages.map((m) => m.bodyId)).toEqual(ids);
    const types = (
      await queryRows<{ type: string }>(t.system.database.db, sql`select type from events order by id`)
    ).map((r) => r.type);
    expect(first.messages.map((m) => m.subject)).toEqual(
      types.map((type) => `${settings.subjectPrefix}.test.${t.merchant.id}.${type}`),
    );

    // The relay died after NATS acked and before its mark committed: the rows are unpublished again.
    await queryRows(t.system.database.db, sql`update events set published_at = null`);
    expect(await relay!.runOnce()).toEqual({ published: 3, duplicates: 3 });
    const second = await streamed();
    expect(second.count).toBe(3);
    expect(second.messages.map((m) => m.msgId)).toEqual(ids);

    // The gauge the soak drill and operators read.
    const metrics = await call(t.app, "GET", "/metrics", null);
    expect(metrics.raw).toMatch(/^mpay_events_unpublished 0$/m);
    expect(await relay!.runOnce()).toEqual({ published: 0, duplicates: 0 });
  });

  it("publishes by itself after the commit when started, as a server with workers does", async () => {
    const relay = t.system.eventsRelay!;
    const before = (await streamed()).count;
    relay.start();
    try {
      const [last] = await queryRows<{ id: string }>(t.system.database.db, sql`select max(id) as id from events`);
      await paymentLife(t); // the running relay may take some of them before it returns
      for (let i = 0; i < 100 && (await unpublished(t)) > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await unpublished(t)).toBe(0);
      const ids = (
        await queryRows<{ id: string }>(
          t.system.database.db,
          sql`select id from events where id > ${last!.id} order by id`,
        )
      ).map((r) => r.id);
      expect(ids).toHaveLength(3);
      const after = await streamed();
      expect(after.count).toBe(before + 3);
      expect(after.messages.slice(-3).map((m) => m.msgId)).toEqual(ids);
    } finally {
      await relay.stop();
    }
  });

  // PGlite has one connection and runs one transaction at a time: two relays cannot overlap there.
  if (backend === "postgres")
    it("claims with SKIP LOCKED: a second relay in another transaction gets none of the events the first holds", async () => {
      const ids = await paymentLife(t);
      const other = new EventsRelay(
        t.system.database.db,
        new EventStreamPublisher(settings),
        DEFAULT_RELAY_SETTINGS,
        pino({ level: "silent" }),
      );
      let inside = -1;
      await t.system.database.db.transaction(async (tx) => {
        await queryRows(tx, sql`select id from events where published_at is null for update`);
        inside = (await other.runOnce()).published;
      });
      await other.stop();
      expect(inside).toBe(0);
      expect(await t.system.eventsRelay!.runOnce()).toEqual({ published: ids.length, duplicates: 0 });
      expect((await streamed()).count).toBe(9);
    });
});

describe.each(testBackends())("events without NATS_URL, and with NATS unreachable [%s]", (backend) => {
  let t: TestPay;
  let hook: { url: string; bodies: string[]; server: Server };

  beforeAll(async () => {
    t = await openTestPay(backend, {
      webhooks: { baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 2000, pollIntervalMs: 10, batchSize: 20 },
    });
    const bodies: string[] = [];
    const server = createHttpServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        bodies.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    hook = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, bodies, server };
  });
  afterAll(async () => {
    await new Promise((r) => hook?.server.close(r));
    await t?.close();
  });

  it("keeps events in the database only, and webhooks go out as before", async () => {
    expect(eventStreamFromEnv({})).toBeNull();
    expect(t.config.eventStream).toBeNull();
    expect(t.system.eventsRelay).toBeNull();
    const endpoint = await call(t.app, "POST", "/v1/webhook-endpoints", t.merchant.secretKey, { url: hook.url });
    expect(endpoint.status).toBe(200);
    const ids = await paymentLife(t);
    expect(await unpublished(t)).toBe(3);
    const queued = await call(t.app, "GET", "/metrics", null);
    expect(queued.raw).toMatch(/^mpay_webhook_deliveries\{status="pending"\} 3$/m);
    await t.system.deliveryWorker.runOnce();
    expect(hook.bodies.map((b) => (JSON.parse(b) as { id: string }).id).sort()).toEqual([...ids].sort());
    const metrics = await call(t.app, "GET", "/metrics", null);
    expect(metrics.raw).toMatch(/^mpay_events_unpublished 0$/m);
    expect(metrics.raw).toMatch(/^mpay_webhook_deliveries\{status="pending"\} 0$/m);
  });

  it("with NATS unreachable the relay fails its pass, the events wait, and its backoff grows to a cap", async () => {
    const port = await deadPort();
    const relay = new EventsRelay(
      t.system.database.db,
      new EventStreamPublisher({
        natsUrl: `nats://127.0.0.1:${port}`,
        stream: "MPAY_NEVER",
        subjectPrefix: "mpay.never",
        publishTimeoutMs: 500,
      }),
      DEFAULT_RELAY_SETTINGS,
      pino({ level: "silent" }),
    );
    const before = await unpublished(t);
    expect(before).toBeGreaterThan(0);
    await expect(relay.runOnce()).rejects.toThrow();
    expect(await unpublished(t)).toBe(before);
    const half = () => 0.5;
    expect(relay.backoffMs(1, half)).toBe(375);
    expect(relay.backoffMs(2, half)).toBe(750);
    expect(relay.backoffMs(30, half)).toBe(22_500);
    expect(relay.backoffMs(30, () => 1)).toBe(DEFAULT_RELAY_SETTINGS.maxBackoffMs);
    await relay.stop();
  });

  it("refuses a bad NATS configuration with the variable's name", () => {
    expect(() => eventStreamFromEnv({ NATS_URL: "http://x" })).toThrow(/NATS_URL/);
    expect(() => eventStreamFromEnv({ NATS_URL: NATS_URL, MPAY_NATS_STREAM: "a.b" })).toThrow(/MPAY_NATS_STREAM/);
    expect(() => eventStreamFromEnv({ NATS_URL: NATS_URL, MPAY_NATS_SUBJECT_PREFIX: "a.>" })).toThrow(
      /MPAY_NATS_SUBJECT_PREFIX/,
    );
    expect(eventStreamFromEnv({ NATS_URL })).toMatchObject({ stream: "MPAY_EVENTS", subjectPrefix: "mpay.events" });
  });
});

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
