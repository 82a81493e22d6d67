/**
 * How many pay-server processes share the port (`MPAY_PAY_PROCESSES`, Node's cluster: cluster.ts) and where they
 * share rate limits and short-lived state (`REDIS_URL`: cluster-redis.ts). Several processes need PostgreSQL: the
 * embedded PGlite database belongs to one process (its folder lock refuses a second), so N > 1 without
 * `DATABASE_URL` is refused here, before anything starts.
 */
import { ConfigError, envInt, type Env } from "@mpay/service-kit";

export interface ClusterSettings {
  /** Pay-server processes behind the one port (1: no cluster, the process itself serves). */
  processes: number;
  /** Redis for the API rate limits and the merchant-key cache's invalidations; undefined → in memory. */
  redisUrl: string | undefined;
  /** Before every Redis key and channel (`MPAY_REDIS_PREFIX`, default `mpay:`): two deployments can share a Redis. */
  redisPrefix: string;
}

/** Far above any core count this runs on: a typo (`MPAY_PAY_PROCESSES=100`) is refused, not 100 processes forked. */
export const MAX_PAY_PROCESSES = 64;

export function loadClusterSettings(env: Env, databaseUrl: string | undefined): ClusterSettings {
  const processes = envInt(env, "MPAY_PAY_PROCESSES", 1, 1);
  if (processes > MAX_PAY_PROCESSES)
    throw new ConfigError(
      "MPAY_PAY_PROCESSES",
      `MPAY_PAY_PROCESSES must be at most ${MAX_PAY_PROCESSES}, got ${processes}`,
    );
  if (processes > 1 && !databaseUrl)
    throw new ConfigError(
      "MPAY_PAY_PROCESSES",
      `MPAY_PAY_PROCESSES=${processes} needs PostgreSQL: set DATABASE_URL, or run one process (the embedded PGlite database is single-process)`,
    );
  const redisUrl = env["REDIS_URL"] || undefined;
  // The URL may carry a password: the message never repeats it.
  if (redisUrl && !/^rediss?:\/\/[^\s]+$/i.test(redisUrl))
    throw new ConfigError("REDIS_URL", "REDIS_URL must be a redis:// or rediss:// URL");
  return { processes, redisUrl, redisPrefix: env["MPAY_REDIS_PREFIX"] || "mpay:" };
}
