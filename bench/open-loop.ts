/**
 * Open-loop load (issue 11: "approval p99 ≤ 100 ms at 80 % of saturation under an open-loop fixed-rate load"):
 * arrivals come on a fixed schedule, one every 1000 / rate ms, whether or not the earlier ones were answered — as
 * payers do — unlike the closed loop, where each virtual device waits for its answer before it starts the next
 * payment and so slows down with the server (coordinated omission).
 *
 * An arrival needs a slot (a payer: one has one PIN login, one passkey counter, at a time). When every slot is busy
 * it waits in a backlog and starts when one frees up; its latency is then counted from its scheduled time, so the
 * wait is in it. A start more than `lateAfterMs` after its schedule counts as late; arrivals still in the backlog
 * when the schedule ends never start (`unstarted`); the runs in flight are awaited.
 */

import { performance } from "node:perf_hooks";

/** Time as the scheduler sees it (milliseconds), so that tests can drive it. */
export interface LoopClock {
  now(): number;
  /** Resolves at `at` (or at once, if it is past). */
  sleepUntil(at: number): Promise<void>;
}

export const realClock: LoopClock = {
  now: () => performance.now(),
  sleepUntil: (at) => {
    const wait = at - performance.now();
    return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : Promise.resolve();
  },
};

export interface Arrival {
  /** 0, 1, 2 … in schedule order. */
  index: number;
  scheduledAt: number;
  startedAt: number;
}

export interface OpenLoopStats {
  rate: number;
  /** Arrivals the schedule held (rate × seconds). */
  scheduled: number;
  started: number;
  /** Started more than `lateAfterMs` after their scheduled time (all slots were busy). */
  late: number;
  /** Still waiting for a slot when the schedule ended: never started. */
  unstarted: number;
  /** The most arrivals waiting for a slot at once. */
  maxBacklog: number;
  /** Of each started arrival: its start minus its scheduled time, ms. */
  startDelayMs: number[];
}

/** The scheduled time of arrival `index` at `rate` per second from `start`. */
export function arrivalTime(start: number, rate: number, index: number): number {
  return start + (index * 1000) / rate;
}

/** Arrivals in `seconds` at `rate` per second (the first at 0). */
export function arrivalsIn(rate: number, seconds: number): number {
  return Math.ceil(rate * seconds - 1e-9);
}

export async function runOpenLoop<S>(options: {
  rate: number;
  seconds: number;
  slots: readonly S[];
  work: (slot: S, arrival: Arrival) => Promise<void>;
  clock?: LoopClock;
  lateAfterMs?: number;
}): Promise<OpenLoopStats> {
  const { rate, seconds, work } = options;
  if (!(rate > 0)) throw new Error(`open loop: the rate must be positive, got ${rate}`);
  if (options.slots.length === 0) throw new Error("open loop: no slot to run an arrival on");
  const clock = options.clock ?? realClock;
  const lateAfterMs = options.lateAfterMs ?? 10;
  const free = [...options.slots];
  const backlog: Array<{ index: number; scheduledAt: number }> = [];
  const inFlight = new Set<Promise<void>>();
  const stats: OpenLoopStats = {
    rate,
    scheduled: arrivalsIn(rate, seconds),
    started: 0,
    late: 0,
    unstarted: 0,
    maxBacklog: 0,
    startDelayMs: [],
  };
  const dispatch = () => {
    while (free.length > 0 && backlog.length > 0) {
      const slot = free.shift() as S;
      const next = backlog.shift() as { index: number; scheduledAt: number };
      const arrival: Arrival = { ...next, startedAt: clock.now() };
      const delay = arrival.startedAt - arrival.scheduledAt;
      stats.started++;
      stats.startDelayMs.push(delay);
      if (delay > lateAfterMs) stats.late++;
      const running: Promise<void> = work(slot, arrival)
        .catch(() => undefined)
        .finally(() => {
          inFlight.delete(running);
          free.push(slot);
          if (!closed) dispatch();
        });
      inFlight.add(running);
    }
  };
  let closed = false;
  const start = clock.now();
  for (let index = 0; index < stats.scheduled; index++) {
    const scheduledAt = arrivalTime(start, rate, index);
    await clock.sleepUntil(scheduledAt);
    backlog.push({ index, scheduledAt });
    dispatch();
    stats.maxBacklog = Math.max(stats.maxBacklog, backlog.length);
  }
  // The schedule is over: what still waits never starts (counted), what runs is awaited.
  closed = true;
  stats.unstarted = backlog.length;
  backlog.length = 0;
  while (inFlight.size > 0) await Promise.all([...inFlight]);
  return stats;
}
