/**
 * The soak drill's verdict (issue 12): is a series flat? A least-squares line through its samples after the
 * warm-up (the last 2/3 of the run), its slope extrapolated to 24 h, compared with the series' bound. A short run
 * has a noisy slope, so the verdict weighs the slope's 95 % limits (slope ± 2 standard errors) in the bad direction:
 * "flat" when even the upper limit is within the bound, "not flat" when even the lower limit passes it (the growth is
 * clear, not a wobble of the last minutes: the drill fails), "undecided" between: this run cannot tell.
 *
 * Samples 5 s apart of a slow series (RSS, a p99 over 30 s) are not independent: each is mostly the one before. The
 * ordinary standard error assumes they are and so claims a precision the run does not have; the first 30-minute
 * soak called RSS "not flat" on a rise and fall of 120 MiB that had come back by the end (lag-1 autocorrelation of
 * the residuals 0.96). The error is widened by the usual AR(1) factor √((1+ρ)/(1−ρ)) (an effective sample size of
 * n(1−ρ)/(1+ρ)), and the report says the smallest change a run could have seen.
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
  /** The slope's standard error (0 with fewer than 3 points), widened for autocorrelated samples. */
  slopeError: number;
  /** The residuals' lag-1 autocorrelation, ρ (0 when negative or with fewer than 3 points). */
  autocorrelation: number;
  mean: number;
  n: number;
}

/** Ordinary least squares, y = intercept + slope·t. */
export function leastSquares(points: readonly Sample[]): Fit {
  const n = points.length;
  if (n === 0) return { slope: 0, intercept: 0, slopeError: 0, autocorrelation: 0, mean: 0, n };
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
  const residual = points.map((p) => p.value - (intercept + slope * p.t));
  let squares = 0;
  let lagged = 0;
  for (let i = 0; i < n; i++) {
    squares += residual[i]! ** 2;
    if (i > 0) lagged += residual[i]! * residual[i - 1]!;
  }
  // Negative ρ (alternating noise) would narrow the error; it is taken as 0. Capped below 1: a series that is
  // one smooth curve has no independent information left, and the factor would be infinite.
  const autocorrelation = n > 2 && squares > 0 ? Math.min(0.99, Math.max(0, lagged / squares)) : 0;
  const widening = Math.sqrt((1 + autocorrelation) / (1 - autocorrelation));
  const slopeError = n > 2 && sxx > 0 ? Math.sqrt(squares / (n - 2) / sxx) * widening : 0;
  return { slope, intercept, slopeError, autocorrelation, mean, n };
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

/**
 * flat: even the slope's 95 % upper limit in the bad direction stays within the bound; not flat: even its lower
 * limit passes the bound; undecided: the run's noise covers both, so it shows no clear growth but could hide some.
 */
export type Judgement = "flat" | "not flat" | "undecided";

export interface Verdict {
  judgement: Judgement;
  /**
   * No clear growth past the bound (flat or undecided): what the drill requires. Requiring "flat" would fail every
   * 30-minute run: 20 minutes of a noisy series cannot resolve the few per cent a day the bounds allow.
   */
  flat: boolean;
  fit: Fit;
  /** slope × 24 h, in the series' units (signed). */
  projected24h: number;
  /** The lower 95 % limit of the change in the bad direction over 24 h (what is compared with the bound). */
  clearChange24h: number;
  allowed24h: number;
  /** The smallest change in 24 h this run could tell from its noise (2 standard errors × 24 h). */
  resolution24h: number;
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
  const possibleChange24h = (bound.direction * fit.slope + 2 * fit.slopeError) * DAY;
  const judgement: Judgement =
    possibleChange24h <= allowed24h ? "flat" : clearChange24h > allowed24h ? "not flat" : "undecided";
  return {
    judgement,
    flat: judgement !== "not flat",
    fit,
    projected24h: fit.slope * DAY,
    clearChange24h,
    allowed24h,
    resolution24h: 2 * fit.slopeError * DAY,
  };
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
