/**
 * The API limit helper on a real Redis (127.0.0.1:6379, a key prefix of each test's own): two app instances, as two
 * pay-server processes, share one limit exactly; without Redis each counts in memory; with Redis down, requests go
 * through uncounted, counted in a metric and logged once. A scope of per-route limits (the vault's) shares them too.
 */
import { randomBytes } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import pino from "pino";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { openSharedState, type SharedState } from "../cluster-redis.ts";
import { apiLimits } from "./rate-limits.ts";

const LIMIT = 7;
const opened: Array<{ close(): Promise<unknown> }> = [];

afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});

async function limitedApp(shared: SharedState, registry = new Registry()): Promise<FastifyInstance> {
  const app = Fastify();
  const limits = apiLimits({ perMinute: LIMIT, shared, registry });
  await app.register(async (scope) => {
    await limits.register(scope, "payments", (request) => String(request.headers["x-key"]));
    scope.get("/v1/ping", async () => ({ ok: true }));
  });
  await app.register(async (scope) => {
    await limits.register(scope, "sign-in", (request) => String(request.headers["x-key"]));
    scope.get("/sign-in/ping", async () => ({ ok: true }));
  });
  opened.push(app);
  return app;
}

function shared(redisUrl: string | undefined, lines: string[] = []): SharedState {
  const log = pino({ level: "warn" }, { write: (line: string) => void lines.push(line) });
  const state = openSharedState({ redisUrl, redisPrefix: `test:${randomBytes(6).toString("hex")}:` }, log);
  opened.push(state);
  return state;
}

const hit = (app: FastifyInstance, url = "/v1/ping", key = "sk_1") =>
  app.inject({ method: "GET", url, headers: { "x-key": key } });

describe("the API limits", () => {
  it("with Redis, two processes' apps share one limit: of 30 concurrent requests exactly the limit pass", async () => {
    const prefix = `test:${randomBytes(6).toString("hex")}:`;
    const log = pino({ level: "silent" });
    const [a, b] = [
      openSharedState({ redisUrl: "redis://127.0.0.1:6379", redisPrefix: prefix }, log),
      openSharedState({ redisUrl: "redis://127.0.0.1:6379", redisPrefix: prefix }, log),
    ];
    opened.push(a, b);
    await Promise.all(
      [a, b].map((s) => (s.redis!.status === "ready" ? undefined : new Promise((r) => s.redis!.once("ready", r)))),
    );
    const [first, second] = [await limitedApp(a), await limitedApp(b)];
    await Promise.all([first.ready(), second.ready()]);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => hit(i % 2 ? first : second)));
    expect(answers.filter((answer) => answer.statusCode === 200)).toHaveLength(LIMIT);
    const refused = answers.filter((answer) => answer.statusCode !== 200);
    expect(refused.every((answer) => answer.statusCode === 429)).toBe(true);
    expect(refused[0]!.json()).toMatchObject({ error: { type: "rate_limit_error", code: "rate_limited" } });
    // Scopes and keys count apart: the sign-in scope and another key still have their whole limit.
    expect((await hit(first, "/sign-in/ping")).statusCode).toBe(200);
    expect((await hit(second, "/v1/ping", "sk_2")).statusCode).toBe(200);
    expect(await a.redis!.keys(`${prefix}rl:payments:*`)).toHaveLength(2);
  });

  it("per-route limits (the vault's routes) are shared through Redis too, each route apart, with the scope's message", async () => {
    const prefix = `test:${randomBytes(6).toString("hex")}:`;
    const log = pino({ level: "silent" });
    const states = [
      openSharedState({ redisUrl: "redis://127.0.0.1:6379", redisPrefix: prefix }, log),
      openSharedState({ redisUrl: "redis://127.0.0.1:6379", redisPrefix: prefix }, log),
    ];
    opened.push(...states);
    await Promise.all(
      states.map((s) => (s.redis!.status === "ready" ? undefined : new Promise((r) => s.redis!.once("ready", r)))),
    );
    const apps = await Promise.all(
      states.map(async (state) => {
        const app = Fastify();
        const limits = apiLimits({ perMinute: LIMIT, shared: state, registry: new Registry() });
        await app.register(async (scope) => {
          await limits.register(scope, "vault", undefined, { global: false, message: "Too many vault requests." });
          const perRoute = (max: number) => ({ config: { rateLimit: { max, timeWindow: 60_000 } } });
          scope.post("/vault/unseal", perRoute(3), async () => ({ ok: true }));
          scope.get("/vault/status", perRoute(5), async () => ({ ok: true }));
          scope.get("/vault/free", async () => ({ ok: true }));
        });
        opened.push(app);
        await app.ready();
        return app;
      }),
    );
    const on = (i: number) => apps[i % 2]!;
    const unseals = await Promise.all(
      Array.from({ length: 10 }, (_, i) => on(i).inject({ method: "POST", url: "/vault/unseal" })),
    );
    expect(unseals.filter((answer) => answer.statusCode === 200)).toHaveLength(3);
    const refused = unseals.find((answer) => answer.statusCode === 429)!;
    expect(refused.json()).toMatchObject({ error: { code: "rate_limited", message: "Too many vault requests." } });
    // The other route counts apart, by its own max; a route without a limit of its own has none.
    const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => on(i).inject("/vault/status")));
    expect(statuses.filter((answer) => answer.statusCode === 200)).toHaveLength(5);
    const free = await Promise.all(Array.from({ length: 3 * LIMIT }, (_, i) => on(i).inject("/vault/free")));
    expect(free.every((answer) => answer.statusCode === 200)).toBe(true);
  });

  it("without Redis, each process counts in memory", async () => {
    const [first, second] = [await limitedApp(shared(undefined)), await limitedApp(shared(undefined))];
    await Promise.all([first.ready(), second.ready()]);
    // Concurrent, handled in one tick: the plugin's own store refused all 20 here (rate-limits-memory.ts).
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => hit(i % 2 ? first : second)));
    // Each app lets its own LIMIT through: 2 × LIMIT of 20.
    expect(answers.filter((answer) => answer.statusCode === 200)).toHaveLength(2 * LIMIT);
    expect(answers.filter((answer) => answer.statusCode === 429)).toHaveLength(20 - 2 * LIMIT);
  });

  it("with Redis unreachable, fails open: requests pass, the metric counts them, one warning is logged", async () => {
    const lines: string[] = [];
    const registry = new Registry();
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const app = await limitedApp(shared("redis://127.0.0.1:1", lines), registry);
    const answers = await Promise.all(Array.from({ length: 2 * LIMIT }, () => hit(app)));
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(2 * LIMIT).fill(200));
    expect(await registry.getSingleMetricAsString("mpay_rate_limit_store_errors_total")).toContain(
      `mpay_rate_limit_store_errors_total{scope="payments"} ${2 * LIMIT}`,
    );
    const warnings = lines.filter((line) => line.includes("Redis:"));
    expect(warnings).toHaveLength(1);
  });

  it("merchant-key changes published by one process reach every other (Redis pub/sub)", async () => {
    const prefix = `test:${randomBytes(6).toString("hex")}:`;
    const log = pino({ level: "silent" });
    const [a, b] = [
      openSharedState({ redisUrl: "redis://127.0.0.1:6379", redisPrefix: prefix }, log),
      openSharedState({ redisUrl: "redis://127.0.0.1:6379", redisPrefix: prefix }, log),
    ];
    opened.push(a, b);
    let forgotten = 0;
    const heard = new Promise<void>((resolve) =>
      b.onKeysChanged(() => {
        forgotten++;
        resolve();
      }),
    );
    // Wait for b's subscription to be in place before publishing.
    for (
      let i = 0;
      i < 100 && (await a.redis!.pubsub("NUMSUB", `${prefix}merchant-keys-changed`).catch(() => ["", 0]))[1] === 0;
      i++
    )
      await new Promise((resolve) => setTimeout(resolve, 10));
    a.publishKeysChanged();
    await heard;
    expect(forgotten).toBe(1);
  });
});
