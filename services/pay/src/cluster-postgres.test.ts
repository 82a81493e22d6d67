/**
 * The merchant-key news through PostgreSQL (cluster-postgres.ts), for a cluster without Redis: one process's change
 * reaches another's forget at once, and again a second later; a listening connection the server ends is opened
 * again, and the process then forgets everything (news sent meanwhile is lost). Single processes and PGlite open
 * nothing.
 */
import pg from "pg";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { KEYS_CHANGED_CHANNEL, keyNewsWithoutRedis, postgresKeyNews } from "./cluster-postgres.ts";
import type { KeyNews } from "./cluster-redis.ts";
import { freshDatabase, testBackends } from "./testing/databases.ts";

const log = pino({ level: "silent" });
const opened: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe.each(testBackends())("merchant-key news without Redis [%s]", (backend) => {
  it("is carried only for a cluster on PostgreSQL without Redis", async () => {
    const database = await freshDatabase(backend);
    opened.push(() => database.drop());
    const url = database.url;
    // The cases that open nothing: one process, Redis carries it, or no PostgreSQL (PGlite is one process).
    expect(keyNewsWithoutRedis({ processes: 1, redisUrl: undefined }, url, log)).toBeUndefined();
    expect(keyNewsWithoutRedis({ processes: 2, redisUrl: "redis://127.0.0.1:6379" }, url, log)).toBeUndefined();
    expect(keyNewsWithoutRedis({ processes: 2, redisUrl: undefined }, undefined, log)).toBeUndefined();
    if (!url) return;
    const news = keyNewsWithoutRedis({ processes: 2, redisUrl: undefined }, url, log);
    expect(news).toBeDefined();
    await news!.close();
  });

  if (backend === "postgres")
    it("reaches the other process at once, and again after a lost connection comes back", async () => {
      const database = await freshDatabase("postgres");
      opened.push(() => database.drop());
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      opened.push(() => admin.end());
      // The database is this test's own: every session in it but this one is a listening connection.
      const OTHERS =
        "from pg_stat_activity where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()";
      // Connected is not yet listening: an idle session shows its last statement, LISTEN until it sends a NOTIFY.
      const bothListening = async () => {
        const shown = await admin.query<{ query: string }>(`select query ${OTHERS}`);
        return shown.rows.filter((row) => row.query === `LISTEN ${KEYS_CHANGED_CHANNEL}`).length === 2;
      };

      const open = (): KeyNews => {
        const news = postgresKeyNews(database.url!, log);
        opened.push(() => news.close());
        return news;
      };
      const [sender, receiver] = [open(), open()];
      const forgotAt: number[] = [];
      receiver.onKeysChanged(() => forgotAt.push(Date.now()));
      await until("both processes listening", bothListening);

      const sentAt = Date.now();
      sender.publishKeysChanged();
      await until("the news", () => forgotAt.length === 1);
      expect(forgotAt[0]! - sentAt).toBeLessThan(500);
      // Forgotten again a second later: the sender may have told before its transaction committed.
      await until("the second forget", () => forgotAt.length === 2, 3_000);
      expect(forgotAt[1]! - forgotAt[0]!).toBeGreaterThanOrEqual(900);

      // The server ends both listening sessions (a restart, a failover): each opens a new one after its backoff,
      // and the receiver forgets everything once back, news sent while it was away being lost.
      await admin.query(`select pg_terminate_backend(pid) ${OTHERS}`);
      await until("the full forget after the reconnection", () => forgotAt.length === 3);
      await until("both processes listening again", bothListening);
      sender.publishKeysChanged();
      await until("the news on the new connection", () => forgotAt.length === 4);
    }, 20_000);
});
