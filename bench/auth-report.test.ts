import { describe, expect, it } from "vitest";
import type { AuthLoadResult } from "./auth-loadgen.ts";
import { bestRate, mergeResults, phaseReport } from "./auth-report.ts";
import type { CpuUsage } from "./cpu-usage.ts";

const result = (overrides: Partial<AuthLoadResult>): AuthLoadResult => ({
  ops: 0,
  failedOps: 0,
  elapsedSeconds: 0,
  opMs: [],
  walletMs: [],
  requestMs: {},
  statuses: {},
  non2xx: 0,
  errorSamples: [],
  exhausted: false,
  perSecond: [],
  ...overrides,
});

const cpu = (serversSeconds: number): CpuUsage => ({
  serversSeconds,
  postgresSeconds: 1,
  loadgenSeconds: 1,
  benchSeconds: 0,
  irqSeconds: 0,
  otherSeconds: 0,
  stealSeconds: 0,
  machineBusyShare: 1,
});

describe("mergeResults", () => {
  it("adds counts, pools latencies, keeps the longest run and only the seconds every generator completed", () => {
    const a = result({ ops: 3, elapsedSeconds: 2.1, opMs: [1, 2, 3], requestMs: { "login-start": [1] }, statuses: { "login-start": { "200": 3 } }, perSecond: [1, 2] });
    const b = result({ ops: 2, elapsedSeconds: 2.4, opMs: [4, 5], requestMs: { "login-start": [2], approve: [9] }, statuses: { "login-start": { "200": 2, "409": 1 } }, non2xx: 1, exhausted: true, perSecond: [2] });
    const m = mergeResults([a, b]);
    expect(m).toMatchObject({ ops: 5, elapsedSeconds: 2.4, non2xx: 1, exhausted: true, perSecond: [3] });
    expect(m.opMs).toEqual([1, 2, 3, 4, 5]);
    expect(m.requestMs).toEqual({ "login-start": [1, 2], approve: [9] });
    expect(m.statuses).toEqual({ "login-start": { "200": 5, "409": 1 } });
  });

  it("takes the best whole second, or the average when it is higher", () => {
    expect(bestRate(result({ ops: 30, elapsedSeconds: 3, perSecond: [8, 12, 10] }))).toBe(12);
    expect(bestRate(result({ ops: 30, elapsedSeconds: 0.5 }))).toBe(60);
  });
});

describe("phaseReport", () => {
  it("reads the rate against the crypto ceiling of the machine's cores", () => {
    const r = phaseReport({ mode: "logins", result: result({ ops: 1000, elapsedSeconds: 10, opMs: [5] }), warmupNon2xx: 0, cpu: cpu(5), eventLoops: [0.5], cpus: 2, processes: 1, cryptoMicroseconds: 800, sqlTrace: null });
    expect(r.rate).toBe(100);
    expect(r.cryptoCeiling).toBe(2500); // 2 cores ÷ 0.8 ms
    expect(r.ratio).toBeCloseTo(0.04);
    expect(r.cryptoShareOfServerCpu).toBeCloseTo(0.16); // 1000 × 0.8 ms = 0.8 s of 5 s
    expect(r.cpu.perOpMs.servers).toBeCloseTo(5);
    expect(r.serverCoreShare).toBeCloseTo(0.5); // 5 s of CPU in 10 s, one process
  });
});
