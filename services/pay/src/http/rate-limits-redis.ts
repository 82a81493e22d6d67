/**
 * A @fastify/rate-limit store on Redis: one Lua script per hit increments the counter and starts its window
 * atomically, so concurrent hits from any number of processes are counted exactly (INCR, then PEXPIRE on the
 * first hit of a window). A Redis error is reported to `onError` and handed to the plugin, whose `skipOnError`
 * lets the request through (rate-limits.ts says why).
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from "@fastify/rate-limit";
import type { Redis } from "ioredis";
import { routeCounterPrefix, type RouteLimit } from "./rate-limits-memory.ts";

const HIT = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
`;

type LimitedRedis = Redis & {
  mpayLimitHit(key: string, windowMs: number): Promise<[number, number]>;
};

class RedisLimitStore implements FastifyRateLimitStore {
  constructor(
    private readonly redis: LimitedRedis,
    private readonly keyPrefix: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  incr(
    key: string,
    callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
    timeWindow: number,
  ): void {
    this.redis.mpayLimitHit(this.keyPrefix + key, timeWindow).then(
      ([current, ttl]) => callback(null, { current, ttl }),
      (error: unknown) => {
        this.onError(error);
        callback(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  /** A route's own limit (its `config.rateLimit`) counts apart from its scope's. */
  child(route: RouteLimit): FastifyRateLimitStore {
    return new RedisLimitStore(this.redis, `${this.keyPrefix}${routeCounterPrefix(route)}`, this.onError);
  }
}

/** The store class the plugin constructs, counting under `prefix`. */
export function redisLimitStore(
  redis: Redis,
  prefix: string,
  onError: (error: unknown) => void,
): FastifyRateLimitStoreCtor {
  if (!("mpayLimitHit" in redis)) redis.defineCommand("mpayLimitHit", { numberOfKeys: 1, lua: HIT });
  const limited = redis as LimitedRedis;
  return class extends RedisLimitStore {
    constructor() {
      super(limited, prefix, onError);
    }
  };
}
