/**
 * Latency statistics for the benchmarks. Percentiles use the nearest-rank method: the p-th percentile is the
 * smallest recorded value such that at least p % of all values are less than or equal to it. It is always a value
 * that was actually measured (no interpolation), which is what latency reports usually mean by "p99".
 */

/** The p-th percentile (0 ≤ p ≤ 100) of values already sorted in ascending order; NaN when there are none. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (!Number.isFinite(p) || p < 0 || p > 100) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  // Nearest rank: ceil(p/100 · n), 1-based; p = 0 is the minimum. The small epsilon keeps 0.99 · 100 = 99 from
  // becoming 99.00000000000001 and rounding up to the next rank.
  const rank = Math.max(1, Math.ceil((p / 100) * n - 1e-9));
  return sorted[Math.min(rank, n) - 1] as number;
}

/** The p-th percentile of values in any order (they are copied, not reordered). */
export function percentile(values: ArrayLike<number>, p: number): number {
  return percentileOfSorted(sortedCopy(values), p);
}

export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Count, mean and the usual percentiles of a set of measurements (NaN fields when it is empty). */
export function summarize(values: ArrayLike<number>): Summary {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] as number;
  return {
    count: n,
    min: n ? (sorted[0] as number) : Number.NaN,
    mean: n ? sum / n : Number.NaN,
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    max: n ? (sorted[n - 1] as number) : Number.NaN,
  };
}

function sortedCopy(values: ArrayLike<number>): Float64Array {
  const copy = Float64Array.from(values);
  for (const v of copy) if (Number.isNaN(v)) throw new RangeError("cannot take a percentile of NaN");
  return copy.sort(); // typed arrays sort numerically
}

/** A growable list of samples without boxing each number (a timed run records hundreds of thousands). */
export class Samples {
  private data = new Float64Array(1024);
  private size = 0;

  add(value: number): void {
    if (this.size === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.size++] = value;
  }

  get length(): number {
    return this.size;
  }

  values(): Float64Array {
    return this.data.subarray(0, this.size);
  }

  summary(): Summary {
    return summarize(this.values());
  }
}
