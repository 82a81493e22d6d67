import { describe, expect, it } from "vitest";
import { phaseReport } from "./auth-report.ts";
import type { CpuUsage } from "./cpu-usage.ts";
import { emptyResult, type WalletLoadResult } from "./wallet-load.ts";

const result = (overrides: Partial<WalletLoadResult>): WalletLoadResult => ({ ...emptyResult(), ...overrides });

const cpu = (serversSeconds: number): CpuUsage => ({
  serversSeconds,
  issuerSeconds: 0,
  postgresSeconds: 1,
  loadgenSeconds: 1,
  benchSeconds: 0,
  irqSeconds: 0,
  otherSeconds: 0,
  stealSeconds: 0,
  machineBusyShare: 1,
});

describe("phaseReport", () => {
  it("reads the rate against the crypto ceiling of the machine's cores", () => {
    const r = phaseReport({
      mode: "logins",
      result: result({ ops: 1000, elapsedSeconds: 10, opMs: [5] }),
      warmupNon2xx: 0,
      cpu: cpu(5),
      eventLoops: [0.5],
      cpus: 2,
      processes: 1,
      cryptoMicroseconds: 800,
      sqlTrace: null,
    });
    expect(r.rate).toBe(100);
    expect(r.cryptoCeiling).toBe(2500); // 2 cores ÷ 0.8 ms
    expect(r.ratio).toBeCloseTo(0.04);
    expect(r.cryptoShareOfServerCpu).toBeCloseTo(0.16); // 1000 × 0.8 ms = 0.8 s of 5 s
    expect(r.cpu.perOpMs.servers).toBeCloseTo(5);
    expect(r.serverCoreShare).toBeCloseTo(0.5); // 5 s of CPU in 10 s, one process
  });
});
