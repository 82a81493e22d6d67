import { describe, expect, it } from "vitest";
import { arrivalsIn, arrivalTime, runOpenLoop, type Arrival, type LoopClock } from "./open-loop.ts";

/**
 * A clock that jumps to each wake-up time, so the schedule runs without waiting; `when(at, fn)` runs `fn` once the
 * clock reaches `at` (before the arrival due then), as an answer arriving at that moment would.
 */
function fakeClock(): LoopClock & { at: number; when(at: number, fn: () => void): void } {
  const timers: Array<{ at: number; fn: () => void }> = [];
  const clock = {
    at: 0,
    now: () => clock.at,
    when: (at: number, fn: () => void) => timers.push({ at, fn }),
    sleepUntil: async (at: number) => {
      clock.at = Math.max(clock.at, at);
      for (const t of timers.filter((t) => t.at <= clock.at)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
      // Let the answers that just came run their continuations (a slot freed) before the next arrival.
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
  };
  return clock;
}

describe("the open-loop scheduler", () => {
  it("spaces arrivals 1000 / rate ms apart and holds rate × seconds of them", () => {
    expect(arrivalTime(100, 20, 0)).toBe(100);
    expect(arrivalTime(100, 20, 3)).toBe(250);
    expect(arrivalsIn(20, 4)).toBe(80);
    expect(arrivalsIn(2.5, 1)).toBe(3);
  });

  it("starts every arrival on time when a slot is free, and never waits for answers before the next arrival", async () => {
    const clock = fakeClock();
    const starts: Arrival[] = [];
    const pending: Array<() => void> = [];
    const stats = await runOpenLoop({
      rate: 10,
      seconds: 1,
      slots: ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
      clock,
      work: (_slot, arrival) => {
        starts.push(arrival);
        // Answers come only after the schedule is over: a closed loop would have started one per slot and stopped.
        return new Promise<void>((resolve) => {
          pending.push(resolve);
          if (pending.length === 10) for (const r of pending) r();
        });
      },
    });
    expect(stats).toMatchObject({ scheduled: 10, started: 10, late: 0, unstarted: 0, maxBacklog: 0 });
    expect(starts.map((a) => a.scheduledAt)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(starts.every((a) => a.startedAt === a.scheduledAt)).toBe(true);
  });

  it("keeps arrivals that find every slot busy in a backlog and counts those that never start", async () => {
    const clock = fakeClock();
    let release: () => void = () => undefined;
    const started: number[] = [];
    const done = runOpenLoop({
      rate: 10,
      seconds: 1,
      slots: ["only"],
      clock,
      work: async (_slot, arrival) => {
        started.push(arrival.index);
        if (arrival.index === 0) await new Promise<void>((resolve) => (release = resolve));
      },
    });
    // The first run holds the one slot through the whole schedule: arrivals 1–9 wait and never start.
    while (clock.at < 900) await new Promise((r) => setImmediate(r));
    release();
    const stats = await done;
    expect(started).toEqual([0]);
    expect(stats).toMatchObject({ scheduled: 10, started: 1, late: 0, unstarted: 9, maxBacklog: 9 });
  });

  it("starts the backlog as slots free up, with the wait counted from the scheduled time", async () => {
    const clock = fakeClock();
    const starts: Arrival[] = [];
    const stats = await runOpenLoop({
      rate: 10,
      seconds: 1,
      slots: ["only"],
      clock,
      lateAfterMs: 10,
      work: (_slot, arrival) => {
        starts.push(arrival);
        // The first run's answer comes at t = 250 ms; every later one at once.
        if (arrival.index > 0) return Promise.resolve();
        return new Promise<void>((resolve) => clock.when(250, resolve));
      },
    });
    expect(stats).toMatchObject({ scheduled: 10, started: 10, unstarted: 0, maxBacklog: 2 });
    // Arrivals 1 (due at 100) and 2 (due at 200) waited for the slot until 300 — when the clock next moved — late by
    // 200 and 100 ms; the rest started on time.
    expect(starts.map((a) => a.startedAt - a.scheduledAt)).toEqual([0, 200, 100, 0, 0, 0, 0, 0, 0, 0]);
    expect(stats.late).toBe(2);
    expect(stats.startDelayMs).toEqual([0, 200, 100, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("refuses a rate that is not positive and a run without slots", async () => {
    await expect(runOpenLoop({ rate: 0, seconds: 1, slots: [1], work: async () => {} })).rejects.toThrow(/rate/);
    await expect(runOpenLoop({ rate: 5, seconds: 1, slots: [], work: async () => {} })).rejects.toThrow(/slot/);
  });
});
