import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";

describe("MPAY_PAY_PROCESSES and REDIS_URL", () => {
  it("default to one process and memory; several processes need PostgreSQL", () => {
    expect(loadConfig({}).cluster).toEqual({ processes: 1, redisUrl: undefined, redisPrefix: "mpay:" });
    expect(() => loadConfig({ MPAY_PAY_PROCESSES: "2" })).toThrow(
      "MPAY_PAY_PROCESSES=2 needs PostgreSQL: set DATABASE_URL, or run one process (the embedded PGlite database is single-process)",
    );
    expect(
      loadConfig({ MPAY_PAY_PROCESSES: "4", DATABASE_URL: "postgres://db/pay", REDIS_URL: "redis://cache:6379" })
        .cluster,
    ).toEqual({ processes: 4, redisUrl: "redis://cache:6379", redisPrefix: "mpay:" });
    expect(() => loadConfig({ MPAY_PAY_PROCESSES: "0" })).toThrow(/MPAY_PAY_PROCESSES must be an integer ≥ 1/);
    expect(() => loadConfig({ MPAY_PAY_PROCESSES: "100", DATABASE_URL: "postgres://db/pay" })).toThrow(/at most 64/);
  });

  it("refuses a REDIS_URL that is not one without repeating it (it may hold a password)", () => {
    const attempt = () => loadConfig({ REDIS_URL: "http://user:hunter2@cache:6379" });
    expect(attempt).toThrow("REDIS_URL must be a redis:// or rediss:// URL");
    expect(attempt).not.toThrow(/hunter2/);
  });
});
