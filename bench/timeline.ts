/**
 * Latency over time: the p50 and p99 (nearest rank, bench/stats.ts) of the operations that completed in each whole
 * second of a timed run, for the HTML report's chart (a reader sees the latency climb as the rate saturates).
 */
import { summarize } from "./stats.ts";

export interface SecondLatency {
  /** Operations completed in that second. */
  count: number;
  /** Null for a second in which nothing completed. */
  p50: number | null;
  p99: number | null;
}

/**
 * `latencies[i]` completed in second `seconds[i]` (0-based from the run's start); answers `wholeSeconds` entries,
 * the last partial second left out as in the runs' `perSecond`.
 */
export function latencyPerSecond(
  latencies: ArrayLike<number>,
  seconds: ArrayLike<number>,
  wholeSeconds: number,
): SecondLatency[] {
  if (latencies.length !== seconds.length)
    throw new RangeError(`${latencies.length} latencies but ${seconds.length} completion seconds`);
  const buckets = Array.from({ length: wholeSeconds }, () => [] as number[]);
  for (let i = 0; i < latencies.length; i++) {
    const s = seconds[i] as number;
    if (s >= 0 && s < wholeSeconds) buckets[s]?.push(latencies[i] as number);
  }
  return buckets.map((b) => {
    if (b.length === 0) return { count: 0, p50: null, p99: null };
    const s = summarize(b);
    return { count: b.length, p50: s.p50, p99: s.p99 };
  });
}
