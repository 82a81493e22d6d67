/**
 * Several pay-server processes behind one port (MPAY_PAY_PROCESSES, services/pay/src/cluster.ts): the real server
 * as `npm start` runs it. On PostgreSQL two workers answer on one port, share one API limit through Redis (exactly
 * the limit passes across both), and a worker killed with SIGKILL is replaced while the other keeps answering;
 * without Redis, /metrics answers for both workers (cluster-metrics.ts) and a rolled key is refused by the other
 * worker at once, told through PostgreSQL (cluster-postgres.ts). On PGlite (single-process by nature) the start is
 * refused with a clear line.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { freshDatabase, systemBackends, type FreshDatabase } from "../services/pay/src/testing/databases.ts";
import { startPayProcess, type PayProcess } from "./support/pay-process.ts";
import { api, errorCode, type HttpAnswer } from "./support/http.ts";
import { createMerchant, openTestSystem, paymentBody } from "./support/pay-system.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
const LIMIT = 5;

/** A new connection each time (`Connection: close`), so the cluster's round robin spreads the requests. */
async function get(url: string): Promise<{ status: number; pid: string | null; body: string }> {
  const response = await fetch(url, { headers: { connection: "close" }, signal: AbortSignal.timeout(5_000) });
  return { status: response.status, pid: response.headers.get("mpay-process"), body: await response.text() };
}

/** The merchant API on a new connection each time, so that the round robin spreads the calls too. */
function call(url: string, method: "GET" | "POST", path: string, key: string, body?: unknown): Promise<HttpAnswer> {
  const headers: Record<string, string> = { connection: "close" };
  if (method === "POST") headers["idempotency-key"] = randomBytes(8).toString("hex");
  return api(url, method, path, key, body, headers);
}

/** The samples of `metric` in a Prometheus text answer: labels as written, and the value. */
function samples(text: string, metric: string): Array<{ labels: string; value: number }> {
  const line = new RegExp(`^${metric}(?:\\{([^}]*)\\})? (\\S+)$`, "gm");
  return [...text.matchAll(line)].map((m) => ({ labels: m[1] ?? "", value: Number(m[2]) }));
}

describe.each(systemBackends())("MPAY_PAY_PROCESSES=2 [%s]", (backend) => {
  let database: FreshDatabase | undefined;
  let dataDir: string | undefined;
  let server: PayProcess | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  if (backend === "pglite")
    it("is refused on the embedded database, with a line that says why", async () => {
      dataDir = await mkdtemp(join(tmpdir(), "mpay-cluster-"));
      const started = startPayProcess({ MPAY_PAY_PROCESSES: "2", MPAY_DATA_DIR: dataDir }, 30_000);
      await expect(started).rejects.toThrow(
        /pay server failed to start: MPAY_PAY_PROCESSES=2 needs PostgreSQL: set DATABASE_URL, or run one process/,
      );
    });
  else
    it("answers from two processes, shares one Redis limit between them, and outlives a killed worker", async () => {
      database = await freshDatabase("postgres");
      dataDir = await mkdtemp(join(tmpdir(), "mpay-cluster-"));
      server = await startPayProcess({
        MPAY_PAY_PROCESSES: "2",
        DATABASE_URL: database.url!,
        MPAY_DATA_DIR: dataDir,
        MPAY_AUDIT_WITNESS_URL: "off",
        MPAY_RATE_LIMIT_PER_MINUTE: String(LIMIT),
        REDIS_URL,
        MPAY_REDIS_PREFIX: `test:${randomBytes(6).toString("hex")}:`,
      });
      const { url } = server;

      // The audit key's scope allows LIMIT a minute per address: counted once for both processes.
      const hits = await Promise.all(Array.from({ length: 4 * LIMIT }, () => get(`${url}/.well-known/mpay-audit-key`)));
      expect(new Set(hits.map((h) => h.pid)).size).toBe(2);
      expect(hits.filter((h) => h.status === 200)).toHaveLength(LIMIT);
      const refused = hits.filter((h) => h.status !== 200);
      expect(new Set(refused.map((h) => h.status))).toEqual(new Set([429]));
      expect(JSON.parse(refused[0]!.body)).toMatchObject({ error: { type: "rate_limit_error", code: "rate_limited" } });

      const before = new Set(
        (await Promise.all(Array.from({ length: 8 }, () => get(`${url}/healthz`)))).map((h) => h.pid),
      );
      expect(before.size).toBe(2);
      const [victim, survivor] = [...before] as [string, string];
      process.kill(Number(victim), "SIGKILL");
      // A connection handed to the victim in the instant it died is lost with it (as behind any balancer); once the
      // primary has seen the death, the other process answers every request until a replacement (after 0.5 s) joins.
      const died = new RegExp(`pay server worker ${victim} exited \\(SIGKILL\\); starting another in 500 ms`);
      for (let waited = 0; !died.test(server.output()) && waited < 5_000; waited += 20)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(server.output()).toMatch(died);
      let replacement: string | undefined;
      const deadline = Date.now() + 40_000; // a fork takes ~5 s here, far more on a loaded machine
      while (!replacement && Date.now() < deadline) {
        const answer = await get(`${url}/healthz`);
        expect(answer.status).toBe(200);
        expect(answer.pid).not.toBe(victim);
        if (answer.pid !== survivor) replacement = answer.pid ?? undefined;
      }
      expect(replacement).toBeDefined();

      // SIGTERM to the primary stops every worker gracefully: exit code 0.
      const exited = new Promise<number | null>((resolve) => server!.child.once("exit", (code) => resolve(code)));
      await server.stop();
      expect(await exited).toBe(0);
    }, 120_000);

  if (backend === "postgres")
    it("without Redis: answers /metrics for both workers, and the other worker refuses a rolled key at once", async () => {
      const db = await freshDatabase("postgres");
      cleanups.push(() => db.drop());
      const dir = await mkdtemp(join(tmpdir(), "mpay-cluster-"));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      // Migrated and given a merchant (and the dev key file both workers read) before the cluster starts.
      const system = await openTestSystem({ databaseUrl: db.url, dataDir: dir });
      const merchant = await createMerchant(system, "Cluster Shop");
      cleanups.push(() => system.close());
      const cluster = await startPayProcess({
        MPAY_PAY_PROCESSES: "2",
        DATABASE_URL: db.url!,
        MPAY_DATA_DIR: dir,
        MPAY_AUDIT_WITNESS_URL: "off",
        MPAY_WORKERS: "off",
      });
      cleanups.push(() => cluster.stop());
      const { url } = cluster;

      // A webhook delivery waiting in the outbox (no delivery worker runs): a gauge both workers read from the database.
      const endpoint = await call(url, "POST", "/v1/webhook-endpoints", merchant.secretKey, {
        url: "http://127.0.0.1:9/hook",
      });
      expect(endpoint.status).toBe(200);
      const payment = await call(url, "POST", "/v1/payments", merchant.secretKey, paymentBody());
      expect(payment.status).toBe(200);
      const canceled = await call(
        url,
        "POST",
        `/v1/payments/${String(payment.body["id"])}/cancel`,
        merchant.secretKey,
        {},
      );
      expect(canceled.status).toBe(200); // payment.canceled: one delivery to the endpoint
      const pending = (await system.webhooks.backlog()).find((row) => row.status === "pending")?.count ?? 0;
      expect(pending).toBeGreaterThan(0);

      // Requests counted by both workers; every scrape, whichever worker answers it, counts all of them.
      const HEALTH_CHECKS = 10;
      const checks = await Promise.all(Array.from({ length: HEALTH_CHECKS }, () => get(`${url}/healthz`)));
      expect(new Set(checks.map((c) => c.pid)).size).toBe(2);
      const scrapes = await Promise.all(Array.from({ length: 6 }, () => get(`${url}/metrics`)));
      expect(new Set(scrapes.map((s) => s.pid)).size).toBe(2);
      for (const scrape of scrapes) {
        expect(scrape.status).toBe(200);
        const health = samples(scrape.body, "mpay_http_request_duration_seconds_count").filter(
          (s) => s.labels.includes('route="/healthz"') && s.labels.includes('status="200"'),
        );
        expect(health).toEqual([{ labels: expect.any(String), value: HEALTH_CHECKS }]);
        // A process metric keeps one series per worker (its cluster id), not a sum without a label.
        const memory = samples(scrape.body, "process_resident_memory_bytes");
        expect(memory.map((s) => s.labels).sort()).toEqual(['worker="1"', 'worker="2"']);
        for (const { value } of memory) expect(value).toBeGreaterThan(0);
        // A gauge read from the database is the database's number, not one per worker added up.
        expect(samples(scrape.body, "mpay_webhook_deliveries")).toContainEqual({
          labels: 'status="pending"',
          value: pending,
        });
      }

      // Both workers accept the key, and so hold it in their 10 s cache.
      const before = await Promise.all(
        Array.from({ length: 6 }, () => call(url, "GET", "/v1/account", merchant.secretKey)),
      );
      expect(before.map((a) => a.status)).toEqual(Array(6).fill(200));
      expect(new Set(before.map((a) => a.headers.get("mpay-process"))).size).toBe(2);
      const rolled = await call(url, "POST", "/v1/api-keys/roll", merchant.secretKey, {});
      expect(rolled.status).toBe(200);
      const roller = rolled.headers.get("mpay-process");
      const rolledAt = Date.now();
      // The other worker refuses the old key well within its cache's 10 s: at once, or after its second forget 1 s
      // later if a request slipped in between the news and the roll's commit.
      let refusedAfter: number | undefined;
      while (refusedAfter === undefined && Date.now() - rolledAt < 10_000) {
        const answer = await call(url, "GET", "/v1/account", merchant.secretKey);
        if (answer.headers.get("mpay-process") !== roller && answer.status === 401) {
          expect(errorCode(answer)).toBe("api_key_expired");
          refusedAfter = Date.now() - rolledAt;
        }
      }
      expect(refusedAfter).toBeLessThan(2_500);
    }, 120_000);
});
