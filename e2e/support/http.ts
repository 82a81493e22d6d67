/**
 * The merchant API over a real socket (Node's global fetch), as a merchant's server calls it: for whole-system
 * tests against pay-server processes started by `startPayProcess`.
 */

export interface HttpAnswer<T = Record<string, unknown>> {
  status: number;
  /** The parsed JSON body (null when the body is not JSON). */
  body: T;
  /** The body exactly as sent, for byte-for-byte comparisons. */
  raw: string;
  headers: Headers;
}

export interface ErrorBody {
  error: { type: string; code: string; message: string; param?: string; requestId?: string };
}

export async function api<T = Record<string, unknown>>(
  baseUrl: string,
  method: "GET" | "POST" | "DELETE",
  path: string,
  secretKey: string | null,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(secretKey ? { authorization: `Bearer ${secretKey}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const raw = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = null;
  }
  return { status: response.status, body: parsed as T, raw, headers: response.headers };
}

/** The error code of an error answer, or undefined when the answer is not an API error. */
export function errorCode(answer: HttpAnswer<unknown>): string | undefined {
  const body = answer.body as Partial<ErrorBody> | null;
  return body?.error?.code;
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs` with `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
