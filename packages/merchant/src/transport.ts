/**
 * One request to the merchant API, with everything the issue asks of it: the secret key, an Idempotency-Key on every
 * POST (the caller's, or a new random one) kept across the SDK's own retries, a timeout per attempt through an
 * AbortSignal, retries by the policy in retry.ts, and a typed error (errors.ts) when the answer is not a success.
 * `fetch` only, so it runs on Node 18+ and on runtimes with Web fetch; a test or a proxy passes its own `fetch`.
 */
import { randomUUID } from "node:crypto";
import { ConnectionError, errorFromAnswer, MPayError } from "./errors.ts";
import { DEFAULT_RETRY_POLICY, parseRetryAfter, retryDelayMs, shouldRetry, type RetryPolicy } from "./retry.ts";

export const SDK_VERSION = "0.1.0";

export interface TransportOptions {
  secretKey: string;
  baseUrl: string;
  /** Per attempt (default 30 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 2; 0 turns retries off). */
  maxRetries?: number;
  /** The first retry's delay (default 500 ms) and the cap on any delay (default 8 s). */
  retryDelay?: { initialMs?: number; maxMs?: number };
  fetch?: typeof fetch;
}

export interface RequestOptions {
  /** For a POST: your key for this operation (an order id…); default a random one, kept across the SDK's retries. */
  idempotencyKey?: string;
  timeoutMs?: number;
  maxRetries?: number;
  /** Cancels the request (and its retries). */
  signal?: AbortSignal;
}

export type Query = Record<string, string | number | boolean | undefined>;

export class Transport {
  readonly baseUrl: string;
  readonly #secretKey: string;
  readonly #timeoutMs: number;
  readonly #policy: RetryPolicy;
  readonly #fetch: typeof fetch;

  constructor(options: TransportOptions) {
    if (typeof options.secretKey !== "string" || options.secretKey === "" || options.secretKey.startsWith("pk_")) {
      // The key itself is never echoed: it may be a real one pasted into the wrong place.
      throw new TypeError(
        "MPay needs your secret key (sk_test_… or sk_live_…); a publishable key (pk_…) is for the browser only.",
      );
    }
    if (typeof options.baseUrl !== "string" || !/^https?:\/\/[^/]/.test(options.baseUrl)) {
      throw new TypeError("MPay needs baseUrl, the pay server's address, such as http://127.0.0.1:4000.");
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#secretKey = options.secretKey;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#policy = {
      maxRetries: options.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries,
      initialDelayMs: options.retryDelay?.initialMs ?? DEFAULT_RETRY_POLICY.initialDelayMs,
      maxDelayMs: options.retryDelay?.maxMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
    };
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** The key never shows in `console.log(mpay)` or a JSON dump of the client. */
  toJSON(): Record<string, unknown> {
    return { baseUrl: this.baseUrl };
  }

  async request<T>(
    method: "GET" | "POST" | "DELETE",
    path: string,
    input: { query?: Query; body?: unknown; options?: RequestOptions | undefined } = {},
  ): Promise<T> {
    const options = input.options ?? {};
    const url = this.baseUrl + path + queryString(input.query);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#secretKey}`,
      accept: "application/json",
      "user-agent": `mpay-merchant-node/${SDK_VERSION}`,
    };
    let body: string | undefined;
    if (method === "POST") {
      headers["idempotency-key"] = options.idempotencyKey ?? `mpay-node-${randomUUID()}`;
      headers["content-type"] = "application/json";
      body = JSON.stringify(input.body ?? {});
    }
    const policy = { ...this.#policy, maxRetries: options.maxRetries ?? this.#policy.maxRetries };
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;

    for (let attempt = 0; ; attempt++) {
      const result = await this.#attempt(method, url, headers, body, timeoutMs, options.signal);
      if (result.ok) return result.value as T;
      const { error, replayed } = result;
      const retryable = shouldRetry({ statusCode: error.statusCode, code: error.code, replayed });
      if (!retryable || attempt >= policy.maxRetries || options.signal?.aborted) throw error;
      await sleep(retryDelayMs(attempt + 1, policy, error.retryAfter), options.signal);
      // Aborted while waiting: the caller stops here, with what the last attempt answered.
      if (options.signal?.aborted) throw error;
    }
  }

  async #attempt(
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ ok: true; value: unknown } | { ok: false; error: MPayError; replayed: boolean }> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(url, { method, headers, body, signal: combined, redirect: "error" });
      text = await response.text();
    } catch (cause) {
      const why = signal?.aborted
        ? "the request was aborted by the caller"
        : timeout.aborted
          ? `no answer within ${timeoutMs} ms`
          : `the connection failed (${describe(cause)})`;
      const error = new ConnectionError({
        type: "connection_error",
        message: `Could not complete ${method} ${new URL(url).pathname} with MPay at ${this.baseUrl}: ${why}. It may or may not have been applied; retrying with the same Idempotency-Key is safe.`,
        cause,
      });
      return { ok: false, error, replayed: false };
    }
    const requestId = response.headers.get("request-id") ?? undefined;
    let parsed: unknown;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.ok) {
      if (parsed === undefined || parsed === null) {
        const error = errorFromAnswer(502, null, { requestId });
        return { ok: false, error: withMessage(error, "MPay answered a success that is not JSON."), replayed: false };
      }
      return { ok: true, value: parsed };
    }
    const error = errorFromAnswer(response.status, parsed, {
      requestId,
      retryAfter: parseRetryAfter(response.headers.get("retry-after")),
    });
    return { ok: false, error, replayed: response.headers.get("idempotent-replayed") === "true" };
  }
}

function withMessage(error: MPayError, message: string): MPayError {
  return new (error.constructor as new (fields: ConstructorParameters<typeof MPayError>[0]) => MPayError)({
    type: error.type,
    message,
    code: error.code,
    requestId: error.requestId,
    statusCode: error.statusCode,
  });
}

function queryString(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return "unknown error";
  // undici puts the system error (ECONNRESET, ECONNREFUSED…) in `cause`.
  const inner = (cause as Error & { cause?: { code?: unknown } }).cause;
  const code = inner && typeof inner.code === "string" ? inner.code : undefined;
  return code ? `${cause.message}: ${code}` : cause.message;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
