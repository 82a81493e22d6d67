import { describe, expect, it } from "vitest";
import { API_TARGETS, capacityOf, formatCapacity, formatSplit, PIN_PATH_TARGETS } from "./capacity.ts";
import type { CpuUsage } from "./cpu-usage.ts";
import { latencyPerSecond } from "./timeline.ts";

const cpu = (overrides: Partial<CpuUsage>): CpuUsage => ({
  serversSeconds: 0,
  issuerSeconds: 0,
  postgresSeconds: 0,
  loadgenSeconds: 0,
  benchSeconds: 0,
  irqSeconds: 0,
  otherSeconds: 0,
  stealSeconds: 0,
  machineBusyShare: 1,
  ...overrides,
});

describe("capacityOf", () => {
  it("is the cores over the pay, issuer and PostgreSQL CPU per payment, each rate against pgbench", () => {
    // 500 payments in 10 s; pay 13.2 s, issuer 5.05 s, PostgreSQL 6.6 s of CPU: 26.4 + 10.1 + 13.2 = 49.7 ms each.
    const c = capacityOf({
      cores: 2,
      payments: 500,
      elapsedSeconds: 10,
      cpu: cpu({
        serversSeconds: 13.2,
        issuerSeconds: 5.05,
        postgresSeconds: 6.6,
        loadgenSeconds: 4,
        machineBusyShare: 0.9,
      }),
      pgbenchTps: 2329,
      targets: PIN_PATH_TARGETS,
    });
    expect(c.serversMsPerPayment.pay).toBeCloseTo(26.4);
    expect(c.serversMsPerPayment.issuer).toBeCloseTo(10.1);
    expect(c.serversMsPerPayment.postgres).toBeCloseTo(13.2);
    expect(c.serversMsPerPayment.total).toBeCloseTo(49.7);
    expect(c.capacityPerSecond).toBeCloseTo(2000 / 49.7); // 40.2/s
    expect(c.measuredPerSecond).toBe(50);
    expect(c.capacityRatio).toBeCloseTo(2000 / 49.7 / 2329);
    expect(c.measuredRatio).toBeCloseTo(50 / 2329);
    expect(c.capacityTargetMet).toBe(false); // 0.017 < 0.10
    expect(c.measuredTargetMet).toBe(false); // 0.021 < 0.05
    expect(c.loadgenMsPerPayment).toBeCloseTo(8);
    // 2 cores × 10 s = 20 s, 90 % busy: 2 s idle.
    expect(c.split).toMatchObject({ pay: 13.2, issuer: 5.05, postgres: 6.6, loadgens: 4 });
    expect(c.split.idle).toBeCloseTo(2);
  });

  it("meets a target at the threshold, and has no ratio without pgbench", () => {
    const met = capacityOf({
      cores: 2,
      payments: 1000,
      elapsedSeconds: 1,
      cpu: cpu({ serversSeconds: 1, postgresSeconds: 1 }), // 2 ms each: 1000/s capacity
      pgbenchTps: 2500,
      targets: API_TARGETS,
    });
    expect(met.capacityPerSecond).toBeCloseTo(1000);
    expect(met.measuredRatio).toBeCloseTo(0.4);
    expect(met.measuredTargetMet).toBe(true);
    expect(met.capacityTargetMet).toBeNull(); // the issue sets no capacity target for the API
    const none = capacityOf({
      ...{ cores: 2, payments: 10, elapsedSeconds: 1 },
      cpu: cpu({ serversSeconds: 1 }),
      pgbenchTps: null,
      targets: API_TARGETS,
    });
    expect(none.capacityRatio).toBeNull();
    expect(none.measuredTargetMet).toBeNull();
    expect(formatCapacity(none, "payments").join("\n")).toContain("no pgbench, no ratio");
  });

  it("gives no capacity for a run that completed nothing, and refuses a bad core count", () => {
    const empty = capacityOf({
      cores: 2,
      payments: 0,
      elapsedSeconds: 5,
      cpu: cpu({ serversSeconds: 3 }),
      pgbenchTps: 1000,
      targets: PIN_PATH_TARGETS,
    });
    expect(empty.capacityPerSecond).toBeNaN();
    expect(empty.capacityRatio).toBeNull();
    expect(formatCapacity(empty, "approved payments")[0]).toContain("– approved payments/s");
    expect(() =>
      capacityOf({ cores: 0, payments: 1, elapsedSeconds: 1, cpu: cpu({}), pgbenchTps: null, targets: API_TARGETS }),
    ).toThrow(RangeError);
  });

  it("prints the capacity, the measured rate, their ratios and the split", () => {
    const c = capacityOf({
      cores: 2,
      payments: 300,
      elapsedSeconds: 10,
      cpu: cpu({ serversSeconds: 6, issuerSeconds: 2, postgresSeconds: 4, loadgenSeconds: 3, otherSeconds: 1 }),
      pgbenchTps: 2000,
      targets: PIN_PATH_TARGETS,
    });
    const text = formatCapacity(c, "approved payments").join("\n");
    expect(text).toContain("CAPACITY         50.0 approved payments/s   = 2 cores ÷ 40.00 ms");
    expect(text).toContain("pay 20.00 + issuer 6.67 + PostgreSQL 13.33");
    expect(text).toContain("0.025 × pgbench · target ≥ 0.10: missed");
    expect(text).toContain("MEASURED         30.0 approved payments/s   0.015 × pgbench · target ≥ 0.05: missed");
    expect(formatSplit(c, "devices")).toBe(
      "pay 6.0 s (30 %) · issuer 2.0 s (10 %) · PostgreSQL 4.0 s (20 %) · devices 3.0 s (15 %) · other (bench, interrupts, other processes, steal) 1.0 s (5 %) · idle 0.0 s (0 %)",
    );
  });
});

describe("latencyPerSecond", () => {
  it("takes p50 and p99 of what completed in each whole second, leaving the partial last one out", () => {
    const latencies = [10, 20, 30, 40, 500, 7, 9];
    const seconds = [0, 0, 0, 0, 0, 2, 3];
    expect(latencyPerSecond(latencies, seconds, 3)).toEqual([
      { count: 5, p50: 30, p99: 500 },
      { count: 0, p50: null, p99: null },
      { count: 1, p50: 7, p99: 7 },
    ]);
    expect(() => latencyPerSecond([1], [], 1)).toThrow(RangeError);
  });
});
