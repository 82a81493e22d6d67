/**
 * What the pay-server processes share through Redis when `REDIS_URL` is set: the API rate limits' counters
 * (http/rate-limits.ts) and the news that a merchant's keys changed, so that every process forgets its cached keys
 * at once (Redis pub/sub) instead of within the cache's 10 s. Without Redis both stay in memory, per process.
 *
 * Redis is never needed to take a payment: commands fail at once while it is unreachable (no offline queue) or
 * after COMMAND_TIMEOUT_MS, the limits then let requests through (fail open, counted and logged), and a missed
 * invalidation falls back to the cache's 10 s. Money and security state stay in PostgreSQL. Without Redis, a
 * cluster's processes hear of key changes through PostgreSQL instead (cluster-postgres.ts).
 */
import { Redis } from "ioredis";
import type { Logger } from "pino";

/** A rate-limit hit must not hold a payment up: a Redis slower than this counts as down for that request. */
export const COMMAND_TIMEOUT_MS = 250;
/** One warning per this much time while Redis is failing, not one per request. */
const WARN_EVERY_MS = 10_000;
/** A receiver forgets again this long after the news: the sender may publish before its transaction commits. */
const SECOND_FORGET_MS = 1_000;

/** The news that merchant keys changed, between the processes: the part of SharedState another carrier can give. */
export interface KeyNews {
  /** Tells every process (this one too) that merchant keys changed. */
  publishKeysChanged(): void;
  /** Calls `forget` whenever any process says merchant keys changed, and after a lost connection comes back. */
  onKeysChanged(forget: () => void): void;
  close(): Promise<void>;
}

/**
 * What a receiver does with the news: forget now, and again SECOND_FORGET_MS later, because the sender may publish
 * before its transaction commits (a request in between would cache the old keys again).
 */
export function forgetNowAndSoon(forget: () => void, timers: Set<NodeJS.Timeout>): void {
  forget();
  const timer = setTimeout(() => {
    timers.delete(timer);
    forget();
  }, SECOND_FORGET_MS);
  timer.unref();
  timers.add(timer);
}

export interface SharedState extends KeyNews {
  /** The client the rate limits count on; null without REDIS_URL. */
  redis: Redis | null;
  /** Prefix of every key and channel (MPAY_REDIS_PREFIX). */
  prefix: string;
  /** Logs a Redis failure at most once per 10 s. */
  warn(what: string, error: unknown): void;
}

/** Only the error's name and message: a connection error may not carry the URL's password, but never risk it. */
function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message.replace(/\/\/[^@\s]*@/g, "//…@")}` : String(error);
}

/** `keyNewsWithoutRedis`: what carries the key news when REDIS_URL is unset (none: each process's cache's 10 s). */
export function openSharedState(
  settings: { redisUrl: string | undefined; redisPrefix: string },
  log: Logger,
  keyNewsWithoutRedis?: KeyNews,
): SharedState {
  let lastWarning = 0;
  const warn = (what: string, error: unknown) => {
    const now = Date.now();
    if (now - lastWarning < WARN_EVERY_MS) return;
    lastWarning = now;
    log.warn({ err: describe(error) }, `Redis: ${what}`);
  };
  const { redisUrl, redisPrefix: prefix } = settings;
  if (!redisUrl) {
    const news: KeyNews = keyNewsWithoutRedis ?? { publishKeysChanged() {}, onKeysChanged() {}, close: async () => {} };
    return {
      redis: null,
      prefix,
      warn,
      publishKeysChanged: () => news.publishKeysChanged(),
      onKeysChanged: (forget) => news.onKeysChanged(forget),
      close: () => news.close(),
    };
  }
  const redis = new Redis(redisUrl, {
    enableOfflineQueue: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
  });
  // Subscriptions wait for the connection and come back after a reconnect (ioredis resubscribes by itself).
  const subscriber = new Redis(redisUrl, { connectTimeout: 2_000, maxRetriesPerRequest: null });
  redis.on("error", (error) => warn("connection for the rate limits failed", error));
  subscriber.on("error", (error) => warn("connection for the key invalidations failed", error));
  const channel = `${prefix}merchant-keys-changed`;
  const timers = new Set<NodeJS.Timeout>();
  return {
    redis,
    prefix,
    warn,
    publishKeysChanged() {
      redis
        .publish(channel, String(process.pid))
        .catch((error: unknown) => warn("could not publish a key change", error));
    },
    onKeysChanged(forget) {
      subscriber.subscribe(channel).catch((error: unknown) => warn("could not subscribe to key changes", error));
      let connectedBefore = false;
      subscriber.on("ready", () => {
        // News sent while this process was disconnected is lost: forget everything once it is back.
        if (connectedBefore) forget();
        connectedBefore = true;
      });
      subscriber.on("message", (from) => {
        if (from === channel) forgetNowAndSoon(forget, timers);
      });
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      redis.disconnect();
      subscriber.disconnect();
    },
  };
}
