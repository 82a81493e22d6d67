/**
 * When the SDK retries, and how long it waits (issue 10: "retries on network errors/409 in-progress/5xx with capped
 * exponential backoff and jitter"). Pure functions, so the policy is tested without a clock.
 *
 * Retried: no answer at all (a dropped connection, a timeout), a 408 (the server timed out reading the request: it
 * never ran), 5xx, 429, and a 409 `idempotency_key_in_progress`
 * (the first request with this Idempotency-Key has not finished). Never retried: every other 4xx (the same request would fail the same way),
 * and an answer the server replayed for the Idempotency-Key (`Idempotent-Replayed: true`): a stored answer never
 * changes. Every POST carries an Idempotency-Key, the same on each retry, so a retry never does the work twice.
 */

export interface RetryPolicy {
  /** Retries after the first attempt (default 2). */
  maxRetries: number;
  /** The first retry's delay before jitter (default 500 ms); each next one doubles. */
  initialDelayMs: number;
  /** The cap on any delay, Retry-After included (default 8 s). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 2, initialDelayMs: 500, maxDelayMs: 8_000 };

/**
 * The pay server answers 409 `idempotency_key_in_progress` for a key whose first request has not finished
 * (services/pay/src/http/idempotency.ts): worth a retry with the same key. Every other 409, `idempotency_key_reused`
 * included (the key was used with another request), is final. The code decides, never the message: messages are
 * for people and may change.
 */
export function isInProgressConflict(code: string | undefined): boolean {
  return code === "idempotency_key_in_progress";
}

export interface Outcome {
  /** `undefined` when no answer came (network error, timeout). */
  statusCode: number | undefined;
  code?: string | undefined;
  replayed?: boolean;
}

export function shouldRetry(outcome: Outcome): boolean {
  const { statusCode } = outcome;
  if (statusCode === undefined) return true;
  if (outcome.replayed) return false;
  if (statusCode === 409) return isInProgressConflict(outcome.code);
  return statusCode === 408 || statusCode === 429 || statusCode >= 500;
}

/**
 * The wait before retry number `retry` (1 for the first): exponential from `initialDelayMs`, capped at `maxDelayMs`,
 * with "equal jitter" (between half and all of it) so that many clients failing together do not retry together,
 * yet none retries at once. A server's Retry-After (seconds) is honoured when longer, within the same cap.
 */
export function retryDelayMs(
  retry: number,
  policy: RetryPolicy,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, retry - 1));
  const jittered = exponential / 2 + (random() * exponential) / 2;
  const asked = retryAfterSeconds !== undefined && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : 0;
  return Math.min(policy.maxDelayMs, Math.max(jittered, asked));
}

/** `Retry-After` as seconds: a number of seconds or an HTTP date; `undefined` when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}
