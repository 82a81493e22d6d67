/**
 * The news that a merchant's keys changed (a roll, new origins, a suspension), carried by PostgreSQL when a cluster
 * has no Redis: every process LISTENs on one dedicated connection and a change is a NOTIFY on it, so the other
 * processes forget their cached keys at once instead of within the cache's 10 s. A cluster always has PostgreSQL
 * (cluster-config.ts), so no further service is needed.
 *
 * Used only with MPAY_PAY_PROCESSES > 1 and no REDIS_URL (app.ts): it costs each process one more connection of the
 * server's max_connections, which a single process, with no sibling to tell, would spend for nothing. Several
 * single-process servers on several machines share the news through REDIS_URL (docs/operations.md).
 *
 * A DATABASE_URL listing several hosts (a failover pair) is searched for its writable host as the pool does
 * (service-kit's pg-hosts.ts): LISTEN and NOTIFY need the primary. A lost connection (a restart, a failover) is
 * opened again after a backoff (0.5 s doubling up to 30 s); news sent meanwhile is lost, so once back every process
 * forgets all its keys. The channel is database-wide, not per schema: two deployments on one database would only
 * make each other forget their caches, never accept a key.
 */
import pg from "pg";
import type { Logger } from "pino";
import { multiHostPool, parseHostList } from "@mpay/service-kit";
import { forgetNowAndSoon, type KeyNews } from "./cluster-redis.ts";

/** A constant identifier: LISTEN takes no bind parameter. */
export const KEYS_CHANGED_CHANNEL = "mpay_merchant_keys_changed";
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
/** One warning per this much time while PostgreSQL is away, not one per attempt or per change. */
const WARN_EVERY_MS = 10_000;

/** node-postgres's message, with anything URL-like cut: an error must not carry the password. */
function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message.replace(/\/\/[^@\s]*@/g, "//…@")}` : String(error);
}

/**
 * The key news for a cluster without Redis (see the file's comment), or undefined where it is not wanted: one
 * process, or Redis carries the news (cluster-redis.ts).
 */
export function keyNewsWithoutRedis(
  settings: { processes: number; redisUrl: string | undefined },
  databaseUrl: string | undefined,
  log: Logger,
): KeyNews | undefined {
  if (settings.processes < 2 || settings.redisUrl || !databaseUrl) return undefined;
  return postgresKeyNews(databaseUrl, log);
}

export function postgresKeyNews(databaseUrl: string, log: Logger): KeyNews {
  const hosts = parseHostList(databaseUrl);
  // One client, held for as long as it lives; the pool is only the way to the writable host.
  const config: pg.PoolConfig = { max: 1, idleTimeoutMillis: 0, connectionTimeoutMillis: 5_000 };
  const pool = hosts ? multiHostPool(hosts, config) : new pg.Pool({ ...config, connectionString: databaseUrl });
  pool.on("error", () => {}); // an idle client's lost socket: the listening one reports its own below

  let lastWarning = 0;
  const warn = (what: string, error?: unknown) => {
    const now = Date.now();
    if (now - lastWarning < WARN_EVERY_MS) return;
    lastWarning = now;
    log.warn(error === undefined ? {} : { err: describe(error) }, `PostgreSQL key-change news: ${what}`);
  };

  const forgetters: Array<() => void> = [];
  const timers = new Set<NodeJS.Timeout>();
  const heard = () => {
    for (const forget of forgetters) forgetNowAndSoon(forget, timers);
  };

  let listening: { client: pg.PoolClient; drop: (error: unknown) => void } | null = null;
  let stopped = false;
  let failures = 0;
  let listenedBefore = false;
  let retry: NodeJS.Timeout | undefined;

  const retryLater = () => {
    if (stopped) return;
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** failures++);
    retry = setTimeout(listen, delay);
    retry.unref();
  };

  function listen(): void {
    if (stopped) return;
    pool.connect().then(
      (client) => {
        let dropped = false;
        const drop = (error: unknown) => {
          if (dropped) return;
          dropped = true;
          if (listening?.client === client) listening = null;
          client.release(true); // ends the connection: the next one is opened anew (and searched for)
          if (stopped) return;
          warn(
            "the listening connection was lost; other processes' key changes wait for it or the cache's 10 s",
            error,
          );
          retryLater();
        };
        client.on("error", drop);
        client.on("end", () => drop(new Error("the connection ended")));
        client.on("notification", (message) => {
          if (message.channel === KEYS_CHANGED_CHANNEL) heard();
        });
        client.query(`LISTEN ${KEYS_CHANGED_CHANNEL}`).then(() => {
          if (dropped) return;
          if (stopped) return drop(null);
          listening = { client, drop };
          failures = 0;
          // News sent while this process was not listening is lost: forget everything once it listens again.
          if (listenedBefore) for (const forget of forgetters) forget();
          listenedBefore = true;
        }, drop);
      },
      (error: unknown) => {
        warn("could not connect to listen for key changes", error);
        retryLater();
      },
    );
  }
  listen();

  return {
    publishKeysChanged() {
      // Through the listening connection: NOTIFY needs no connection of its own, and reaches this process too.
      if (!listening) {
        warn("not connected: the other processes see this key change within the cache's 10 s");
        return;
      }
      listening.client
        .query("select pg_notify($1, $2)", [KEYS_CHANGED_CHANNEL, String(process.pid)])
        .catch((error: unknown) => warn("could not publish a key change", error));
    },
    onKeysChanged(forget) {
      forgetters.push(forget);
    },
    async close() {
      stopped = true;
      clearTimeout(retry);
      for (const timer of timers) clearTimeout(timer);
      listening?.drop(null);
      await pool.end().catch(() => undefined);
    },
  };
}
