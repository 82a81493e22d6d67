/**
 * The soak drill's verdict (issue 12): is a series flat? A least-squares line through its samples after the
 * warm-up (the last 2/3 of the run), its slope extrapolated to 24 h, compared with the series' bound. A short run
 * has a noisy slope, so the verdict takes the slope's 95 % lower limit (slope − 2 standard errors) in the bad
 * direction: "not flat" means the growth past the bound is clear, not a wobble of the last minutes.
 */

export interface Sample {
  /** Seconds since the soak began. */
  t: number;
  value: number;
}

export interface Fit {
  /** Units per second. */
  slope: number;
  intercept: number;
  /** The slope's standard error (0 with fewer than 3 points). */
  slopeError: number;
  mean: number;
  n: number;
}

/** Ordinary least squares, y = intercept + slope·t. */
export function leastSquares(points: readonly Sample[]): Fit {
  const n = points.length;
  if (n === 0) return { slope: 0, intercept: 0, slopeError: 0, mean: 0, n };
  const meanT = points.reduce((s, p) => s + p.t, 0) / n;
  const mean = points.reduce((s, p) => s + p.value, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.t - meanT) ** 2;
    sxy += (p.t - meanT) * (p.value - mean);
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const intercept = mean - slope * meanT;
  let residuals = 0;
  for (const p of points) residuals += (p.value - (intercept + slope * p.t)) ** 2;
  const slopeError = n > 2 && sxx > 0 ? Math.sqrt(residuals / (n - 2) / sxx) : 0;
  return { slope, intercept, slopeError, mean, n };
}

/** How a series may move in 24 h and still count as flat. */
export interface Bound {
  /** Which way is bad: memory growing (+1), throughput falling (−1). */
  direction: 1 | -1;
  /** The allowed change in 24 h, in the series' units, from the fitted mean after warm-up. */
  per24h: (mean: number) => number;
  /** The bound in words, for the report. */
  text: string;
}

export interface Verdict {
  flat: boolean;
  fit: Fit;
  /** slope × 24 h, in the series' units (signed). */
  projected24h: number;
  /** The lower 95 % limit of the change in the bad direction over 24 h (what is compared with the bound). */
  clearChange24h: number;
  allowed24h: number;
}

const DAY = 86_400;

/** The samples after the first third of the run (warm-up: JIT, pools filling, caches). */
export function afterWarmUp(samples: readonly Sample[]): Sample[] {
  if (samples.length === 0) return [];
  const end = samples[samples.length - 1]!.t;
  const start = samples[0]!.t;
  const from = start + (end - start) / 3;
  return samples.filter((s) => s.t >= from);
}

export function verdict(samples: readonly Sample[], bound: Bound): Verdict {
  const fit = leastSquares(afterWarmUp(samples));
  const allowed24h = bound.per24h(fit.mean);
  const clearChange24h = (bound.direction * fit.slope - 2 * fit.slopeError) * DAY;
  return { flat: clearChange24h <= allowed24h, fit, projected24h: fit.slope * DAY, clearChange24h, allowed24h };
}

/** The drill's bounds (docs/operations.md "Soak drill"). */
export const BOUNDS = {
  /** Less than 10 % of the post-warm-up mean per hour: a leak that size would need a restart within a day. */
  memory: { direction: 1, per24h: (mean) => 0.1 * 24 * mean, text: "< +10 %/h of its mean" },
  /** The pool's connections come and go with idle time; one more per day is a leak. */
  connections: { direction: 1, per24h: () => 1, text: "< +1 per 24 h" },
  /** The event loop's p99 delay, in ms, must not creep up: +100 ms a day at most. */
  loopDelay: { direction: 1, per24h: () => 100, text: "< +100 ms per 24 h" },
  /** The outbox drains as fast as it fills: fewer than 1,000 more waiting rows a day. */
  outbox: { direction: 1, per24h: () => 1000, text: "< +1,000 rows per 24 h" },
  /** Paced load: the pace is held, not lost (< 10 % of the mean less per 24 h). */
  throughput: { direction: -1, per24h: (mean) => 0.1 * mean, text: "> −10 % per 24 h" },
  /** A payment's p99 must not grow by more than half of its mean a day. */
  latency: { direction: 1, per24h: (mean) => 0.5 * mean, text: "< +50 % per 24 h" },
} satisfies Record<string, Bound>;
