/**
 * The per-minute API limits of every route scope (the merchant API, dashboard sign-in, the console, the payer's
 * routes, the public audit key, the button's script and status, the vault's routes), registered by one helper so
 * they answer the same way: MPay's 429 `rate_limited`.
 * Each scope counts apart (its own key prefix). With Redis (cluster-redis.ts) every pay-server process counts on
 * the same counters, one Lua script per hit (rate-limits-redis.ts); without, each process counts in memory
 * (rate-limits-memory.ts).
 *
 * Redis down → fail open: the request goes through uncounted, with a logged warning and
 * `mpay_rate_limit_store_errors_total`. These limits protect capacity, not secrets (the security limits, PIN and
 * sign-in tries, enrollment, pushes, are in PostgreSQL: service-kit's limit-slots.ts), and a payment API that stops
 * taking payments because a cache is down hurts every merchant more than an hour without a throughput cap.
 */
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Counter, type Registry } from "prom-client";
import type { Redis } from "ioredis";
import { ApiError, errorBody } from "./errors.ts";
import { memoryLimitStore } from "./rate-limits-memory.ts";
import { redisLimitStore } from "./rate-limits-redis.ts";

/** Where the counters live: the pay server's shared state (cluster-redis.ts) fits this. */
export interface LimitCounters {
  /** Redis, or null to count in memory. */
  redis: Redis | null;
  /** Before every key. */
  prefix: string;
  /** Reports a failing store (rate-limited logging is the caller's). */
  warn(what: string, error: unknown): void;
}

/** How one scope's limit differs from the API's. */
export interface ScopeLimit {
  /**
   * false: only the scope's routes that set `config: { rateLimit: { max, timeWindow } }` are limited, each by its
   * own numbers and counters (the vault's routes).
   */
  global?: boolean;
  /** The 429's message, when the scope says something more useful than the API's. */
  message?: string;
}

export interface ApiLimits {
  /**
   * Limits `scope` (a name of its own: `v1`, `sign-in`, …) to `perMinute` requests per `key` (default the client
   * address), or as `limit` says.
   */
  register(
    scope: FastifyInstance,
    name: string,
    key?: (request: FastifyRequest) => string,
    limit?: ScopeLimit,
  ): Promise<void>;
}

const API_MESSAGE = "Too many requests; slow down and retry with backoff.";

export function apiLimits(options: { perMinute: number; shared: LimitCounters; registry: Registry }): ApiLimits {
  const { shared } = options;
  const storeErrors = new Counter({
    name: "mpay_rate_limit_store_errors_total",
    help: "Requests let through uncounted because the shared rate-limit store (Redis) failed",
    labelNames: ["scope"],
    registers: [options.registry],
  });
  return {
    async register(scope, name, key, limit = {}) {
      const redis = shared.redis;
      await scope.register(rateLimit, {
        global: limit.global ?? true,
        max: options.perMinute,
        timeWindow: 60_000,
        ...(key ? { keyGenerator: key } : {}),
        ...(redis
          ? {
              store: redisLimitStore(redis, `${shared.prefix}rl:${name}:`, (error) => {
                storeErrors.inc({ scope: name });
                shared.warn("rate-limit store failed; the request went through uncounted", error);
              }),
              skipOnError: true,
            }
          : { store: memoryLimitStore() }),
        errorResponseBuilder: (request) => ({
          statusCode: 429,
          ...errorBody(new ApiError("rate_limited", limit.message ?? API_MESSAGE), request.id),
        }),
      });
    },
  };
}
