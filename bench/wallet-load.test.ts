import { describe, expect, it } from "vitest";
import { bestRate, emptyResult, inParallel, mergeResults, type WalletLoadResult } from "./wallet-load.ts";

const result = (overrides: Partial<WalletLoadResult>): WalletLoadResult => ({ ...emptyResult(), ...overrides });

describe("mergeResults", () => {
  it("adds counts, pools latencies, keeps the longest run and only the seconds every generator completed", () => {
    const a = result({
      ops: 3,
      elapsedSeconds: 2.1,
      opMs: [1, 2, 3],
      requestMs: { "login-start": [1] },
      deviceMs: { "device-jwe": [4] },
      statuses: { "login-start": { "200": 3 } },
      perSecond: [1, 2],
    });
    const b = result({
      ops: 2,
      elapsedSeconds: 2.4,
      opMs: [4, 5],
      requestMs: { "login-start": [2], approve: [9] },
      deviceMs: { "device-jwe": [5], "device-prepare": [1] },
      statuses: { "login-start": { "200": 2, "409": 1 } },
      non2xx: 1,
      exhausted: true,
      perSecond: [2],
    });
    const m = mergeResults([a, b]);
    expect(m).toMatchObject({ ops: 5, elapsedSeconds: 2.4, non2xx: 1, exhausted: true, perSecond: [3] });
    expect(m.opMs).toEqual([1, 2, 3, 4, 5]);
    expect(m.requestMs).toEqual({ "login-start": [1, 2], approve: [9] });
    expect(m.deviceMs).toEqual({ "device-jwe": [4, 5], "device-prepare": [1] });
    expect(m.statuses).toEqual({ "login-start": { "200": 5, "409": 1 } });
  });

  it("takes the best whole second, or the average when it is higher", () => {
    expect(bestRate(result({ ops: 30, elapsedSeconds: 3, perSecond: [8, 12, 10] }))).toBe(12);
    expect(bestRate(result({ ops: 30, elapsedSeconds: 0.5 }))).toBe(60);
  });
});

describe("inParallel", () => {
  it("keeps the order of the items and never runs more than the concurrency at once", async () => {
    let running = 0;
    let most = 0;
    const out = await inParallel([5, 1, 4, 2, 3], 2, async (n, worker) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running--;
      return `${n}@${worker < 2 ? "ok" : "bad"}`;
    });
    expect(out).toEqual(["5@ok", "1@ok", "4@ok", "2@ok", "3@ok"]);
    expect(most).toBe(2);
  });
});
