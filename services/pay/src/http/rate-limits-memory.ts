/**
 * The in-memory store of the API limits (one process, no REDIS_URL). @fastify/rate-limit 11.2's own LocalStore
 * hands every caller the same mutable counter object, and the plugin reads it after an `await`: requests whose
 * limit checks interleave (a burst handled in one tick) all read the last count and are all refused, even the first.
 * This store answers each hit with its own numbers.
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from "@fastify/rate-limit";

/** What the plugin hands a store's `child` for a route with its own `config.rateLimit`. */
export type RouteLimit = Parameters<FastifyRateLimitStore["child"]>[0];

/**
 * A route's own counters' prefix. The plugin (11.x) passes the route's merged limit options with the route under
 * `routeInfo`, not the route itself as its types say: reading `method` and `url` off the options gave every route
 * of a scope `undefinedundefined:`, so the vault's unseal and status routes counted on one counter.
 */
export function routeCounterPrefix(options: RouteLimit): string {
  const route = (options as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? options;
  return `${String(route.method)}${String(route.url)}:`;
}

/** Counters kept at most; past it, ended windows are dropped first, then the oldest (as the plugin's LRU of 5000). */
const MAX_COUNTERS = 10_000;

interface Window {
  count: number;
  endsAt: number;
}

class MemoryLimitStore implements FastifyRateLimitStore {
  constructor(
    private readonly windows: Map<string, Window>,
    private readonly keyPrefix: string,
  ) {}

  incr(
    key: string,
    callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
    timeWindow: number,
  ): void {
    const now = Date.now();
    const id = this.keyPrefix + key;
    let window = this.windows.get(id);
    if (!window || window.endsAt <= now) {
      window = { count: 0, endsAt: now + timeWindow };
      this.windows.delete(id);
      this.#makeRoom(now);
      this.windows.set(id, window);
    }
    window.count++;
    callback(null, { current: window.count, ttl: window.endsAt - now });
  }

  child(route: RouteLimit): FastifyRateLimitStore {
    return new MemoryLimitStore(this.windows, `${this.keyPrefix}${routeCounterPrefix(route)}`);
  }

  #makeRoom(now: number): void {
    if (this.windows.size < MAX_COUNTERS) return;
    for (const [id, window] of this.windows) if (window.endsAt <= now) this.windows.delete(id);
    for (const id of this.windows.keys()) {
      if (this.windows.size < MAX_COUNTERS) break;
      this.windows.delete(id);
    }
  }
}

/** A store class for one limit registration, its counters its own. */
export function memoryLimitStore(): FastifyRateLimitStoreCtor {
  const windows = new Map<string, Window>();
  return class extends MemoryLimitStore {
    constructor() {
      super(windows, "");
    }
  };
}
