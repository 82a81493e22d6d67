/**
 * The background loop on vitest's fake clock (setTimeout and Date.now move only when the test says), so "one
 * interval after the pass ended" is checked to the millisecond; the unref check runs on the real timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PeriodicTask, type PassOutcome, type PeriodicTaskOptions } from "./periodic-task.ts";

/** A pass the test ends when it chooses. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function recordingLog() {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  return { lines, error: (fields: Record<string, unknown>, message: string) => void lines.push({ fields, message }) };
}

/** A task whose passes record when they start (fake time, ms since the test began) and run `work`. */
function taskOf(
  work: (n: number) => Promise<PassOutcome> = async () => {},
  options: Partial<PeriodicTaskOptions> = {},
) {
  const log = recordingLog();
  const t0 = Date.now();
  const starts: number[] = [];
  const task = new PeriodicTask({ name: "test sweep", intervalMs: 100, log, ...options }, () => {
    starts.push(Date.now() - t0);
    return work(starts.length);
  });
  return { task, starts, log };
}

describe("periodic task", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("runs a pass at start, then one interval after each pass ended", async () => {
    const { task, starts } = taskOf(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30)); // each pass takes 30 ms
    });
    task.start();
    await vi.advanceTimersByTimeAsync(380);
    await task.stop(); // between passes: the fourth would start at 390
    expect(starts).toEqual([0, 130, 260]);
  });

  it("never starts a pass while the previous one runs, however long it takes", async () => {
    const gates = [gate(), gate()];
    let inside = 0;
    let most = 0;
    const { task, starts } = taskOf(async (n) => {
      most = Math.max(most, ++inside);
      await gates[n - 1]?.promise;
      inside--;
    });
    task.start();
    await vi.advanceTimersByTimeAsync(10_000); // a hundred intervals: the first pass still runs
    expect(starts).toEqual([0]);
    gates[0]!.open();
    await vi.advanceTimersByTimeAsync(99);
    expect(starts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([0, 10_100]);
    gates[1]!.open();
    await task.stop();
    expect(most).toBe(1);
  });

  it("starts the next pass when the last one asks (a full batch goes on at once)", async () => {
    const { task, starts } = taskOf(async (n) => (n < 3 ? { nextInMs: 0 } : { nextInMs: 1000 }));
    task.start();
    // The fake clock may put a 0 ms timer set while it runs timers 1 ms on: "at once" is "long before an interval".
    await vi.advanceTimersByTimeAsync(10);
    expect(starts).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(starts).toHaveLength(4);
    expect(starts[3]! - starts[2]!).toBe(1000);
    await task.stop();
  });

  it("waits one interval before the first pass when told to", async () => {
    const { task, starts } = taskOf(async () => {}, { firstPass: "after-interval" });
    task.start();
    await vi.advanceTimersByTimeAsync(99);
    expect(starts).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([100]);
    await task.stop();
  });

  it("stop() waits for the pass under way, and no pass starts after it", async () => {
    const running = gate();
    let ended = false;
    const { task, starts } = taskOf(async () => {
      await running.promise;
      ended = true;
    });
    task.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(task.started).toBe(true);
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    expect(task.started).toBe(false);
    await vi.advanceTimersByTimeAsync(50);
    expect(stopped).toBe(false); // the pass still runs
    running.open();
    await stopping;
    expect(ended).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(starts).toEqual([0]);
  });

  it("stop() before the first pass means no pass at all", async () => {
    const { task, starts } = taskOf();
    task.start();
    await task.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(starts).toEqual([]);
  });

  it("start() twice is one loop, and a loop started again after stop() runs as before", async () => {
    const { task, starts } = taskOf();
    task.start();
    task.start();
    await vi.advanceTimersByTimeAsync(250);
    expect(starts).toEqual([0, 100, 200]);
    await task.stop();
    await vi.advanceTimersByTimeAsync(1000);
    task.start();
    await vi.advanceTimersByTimeAsync(150);
    expect(starts).toEqual([0, 100, 200, 1250, 1350]);
    await task.stop();
  });

  it("started again while the stopped pass still runs, it goes on after that pass (never two loops)", async () => {
    const first = gate();
    let inside = 0;
    let most = 0;
    const { task, starts } = taskOf(async (n) => {
      most = Math.max(most, ++inside);
      if (n === 1) await first.promise;
      inside--;
    });
    task.start();
    await vi.advanceTimersByTimeAsync(0);
    const stopping = task.stop();
    task.start();
    await vi.advanceTimersByTimeAsync(500);
    expect(starts).toEqual([0]);
    first.open();
    await stopping;
    await vi.advanceTimersByTimeAsync(250);
    expect(starts).toEqual([0, 600, 700]);
    expect(most).toBe(1);
    await task.stop();
  });

  it("logs a pass that throws, without the failed query's parameters, and goes on after retryInMs", async () => {
    const pan = "4111111111111111";
    // A failed query as drizzle throws it: its message and `params` carry what the statement was given.
    const failedQuery = Object.assign(new Error(`Failed query: insert into cards values ($1)\nparams: ${pan}`), {
      query: "insert into cards values ($1)",
      params: [pan],
      cause: Object.assign(new Error("duplicate key value violates unique constraint"), { code: "23505" }),
    });
    const { task, starts, log } = taskOf(
      async (n) => {
        if (n === 1) throw failedQuery;
        if (n === 2) throw new TypeError("not a function");
      },
      { retryInMs: 400 },
    );
    task.start();
    await vi.advanceTimersByTimeAsync(850);
    await task.stop();
    expect(starts).toEqual([0, 400, 800]); // the pass at 800 went well: the next would come at 900
    expect(log.lines.map((line) => line.message)).toEqual(["test sweep failed", "test sweep failed"]);
    expect(log.lines[0]!.fields["err"]).toMatchObject({ type: "DatabaseError", code: "23505" });
    expect(log.lines[1]!.fields["err"]).toMatchObject({ type: "TypeError", message: "not a function" });
    expect(JSON.stringify(log.lines)).not.toContain(pan);
  });

  it("goes on after a pass that throws before its first await", async () => {
    const log = recordingLog();
    let passes = 0;
    const task = new PeriodicTask({ name: "eager", intervalMs: 100, log }, () => {
      passes++;
      if (passes === 1) throw new Error("thrown at once");
      return Promise.resolve();
    });
    task.start();
    await vi.advanceTimersByTimeAsync(150);
    expect(passes).toBe(2);
    expect(log.lines).toHaveLength(1);
    await task.stop();
    task.start(); // nothing left of the failed pass holds the loop back
    await vi.advanceTimersByTimeAsync(0);
    expect(passes).toBe(3);
    await task.stop();
  });
});

describe("periodic task timers", () => {
  const timeouts = () => process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;

  it("keep the process alive only when not unref'd", async () => {
    const log = recordingLog();
    const before = timeouts();
    const kept = new PeriodicTask(
      { name: "kept", intervalMs: 60_000, firstPass: "after-interval", log },
      async () => {},
    );
    kept.start();
    expect(timeouts()).toBe(before + 1);
    await kept.stop();
    expect(timeouts()).toBe(before);
    const unrefd = new PeriodicTask(
      { name: "unref'd", intervalMs: 60_000, firstPass: "after-interval", unref: true, log },
      async () => {},
    );
    unrefd.start();
    expect(timeouts()).toBe(before);
    await unrefd.stop();
  });
});
