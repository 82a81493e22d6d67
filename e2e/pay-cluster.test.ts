/**
 * Several pay-server processes behind one port (MPAY_PAY_PROCESSES, services/pay/src/cluster.ts): the real server
 * as `npm start` runs it. On PostgreSQL two workers answer on one port, share one API limit through Redis (exactly
 * the limit passes across both), and a worker killed with SIGKILL is replaced while the other keeps answering; on
 * PGlite (single-process by nature) the start is refused with a clear line.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { freshDatabase, systemBackends, type FreshDatabase } from "../services/pay/src/testing/databases.ts";
import { startPayProcess, type PayProcess } from "./support/pay-process.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
const LIMIT = 5;

/** A new connection each time (`Connection: close`), so the cluster's round robin spreads the requests. */
async function get(url: string): Promise<{ status: number; pid: string | null; body: string }> {
  const response = await fetch(url, { headers: { connection: "close" }, signal: AbortSignal.timeout(5_000) });
  return { status: response.status, pid: response.headers.get("mpay-process"), body: await response.text() };
}

describe.each(systemBackends())("MPAY_PAY_PROCESSES=2 [%s]", (backend) => {
  let database: FreshDatabase | undefined;
  let dataDir: string | undefined;
  let server: PayProcess | undefined;

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
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
});
