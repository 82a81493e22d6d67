/**
 * The one request core every resource of the pay client goes through (as stripe-node's resources share one
 * `StripeResource` request path): the pay server's origin, the payer's session token in a private field
 * (`Authorization: Bearer pst_…`), the timeout, and the map from an answer to `PayApiError`.
 *
 * Every answer is checked against the route's schema from @mpay/protocol (the one the pay server's route declares)
 * before the caller sees it (STYLE.md: validate at the edges). An error answer becomes a `PayApiError` with the
 * server's `code`, message, HTTP status and request id, and never with the request.
 *
 * No automatic retries and no Idempotency-Key, unlike stripe-node: the payer routes take no Idempotency-Key, and
 * some of them are not safe to repeat — a PIN login start counts a try before the server answers, so a blind retry
 * after a lost answer would spend a second try. On `pay_server_unreachable` or `pay_server_timeout` the caller
 * decides (and asks the payer).
 */
import { apiErrorAnswerSchema } from "@mpay/protocol";
import type { z } from "zod";
import { PayApiError } from "../errors.ts";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
const SESSION_TOKEN_PATTERN = /^pst_[A-Za-z0-9_-]{43}$/;

export type Method = "GET" | "POST";

export interface PayRequestOptions {
  /** The pay server's origin, such as `https://pay.example` (a path prefix is kept). Plain http only on loopback. */
  baseUrl: string;
  /** A session kept from an earlier sign-in (`pst_…`). */
  sessionToken?: string;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

export class PayRequester {
  readonly baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  #sessionToken: string | undefined;

  constructor(options: PayRequestOptions) {
    this.baseUrl = checkedBaseUrl(options.baseUrl);
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.useSession(options.sessionToken);
  }

  /** Uses `sessionToken` for the requests that follow; undefined signs out (locally). */
  useSession(sessionToken: string | undefined): void {
    if (sessionToken !== undefined && !SESSION_TOKEN_PATTERN.test(sessionToken)) {
      throw new TypeError(
        "a payer session token is `pst_` and 43 base64url characters, as `sessions.finish` returns it",
      );
    }
    this.#sessionToken = sessionToken;
  }

  get signedIn(): boolean {
    return this.#sessionToken !== undefined;
  }

  async request<S extends z.ZodType>(method: Method, path: string, schema: S, body?: unknown): Promise<z.infer<S>> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#sessionToken !== undefined) headers["authorization"] = `Bearer ${this.#sessionToken}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.#fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        // The session is a bearer token: no cookie is needed, and none is sent to be confused with it.
        credentials: "omit",
        cache: "no-store",
        // A payer route never redirects; a redirect is answered as an invalid answer, not followed with the token.
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      // No cause attached: the fetch implementation saw the request, body and token included.
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      throw new PayApiError(
        timedOut
          ? {
              type: "connection_error",
              code: "pay_server_timeout",
              message: `the pay server at ${this.baseUrl} did not answer ${method} ${routeOf(path)} within ${this.#timeoutMs} ms`,
            }
          : {
              type: "connection_error",
              code: "pay_server_unreachable",
              message: `the pay server at ${this.baseUrl} cannot be reached${networkCode(error)}`,
            },
      );
    }
    const requestId = response.headers.get("request-id") ?? undefined;
    const json = await readJson(response);
    if (!response.ok) {
      const parsed = apiErrorAnswerSchema.safeParse(json);
      if (parsed.success) {
        const { type, code, message, param } = parsed.data.error;
        throw new PayApiError({
          type,
          code,
          message,
          statusCode: response.status,
          requestId: parsed.data.error.requestId ?? requestId,
          param,
        });
      }
      throw invalidAnswer(
        response.status,
        requestId,
        `${method} ${routeOf(path)} failed with HTTP ${response.status || "redirect"} and no MPay error body (a proxy in between?)`,
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      // The paths of what did not match, never the values: a sign-in answer holds the session token.
      const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.map(String).join(".") || "(body)"))]
        .slice(0, 5)
        .join(", ");
      throw invalidAnswer(
        response.status,
        requestId,
        `the answer to ${method} ${routeOf(path)} does not have the documented shape (${fields})`,
      );
    }
    return parsed.data;
  }
}

/** A path segment from an id: encoded, so that an id can never name another route. */
export function segment(id: string): string {
  if (typeof id !== "string" || id === "") throw new TypeError("an MPay id is a non-empty string");
  return encodeURIComponent(id);
}

function checkedBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError("baseUrl is the pay server's absolute URL, such as https://pay.example");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new TypeError(
      "baseUrl must be https (plain http only for a pay server on this machine): the session token is a bearer secret",
    );
  }
  if (url.search || url.hash || url.username || url.password)
    throw new TypeError("baseUrl has no query, fragment or credentials");
  return url.href.replace(/\/+$/, "");
}

/** The route without its query (a sign-in callback's query holds the authorization code). */
function routeOf(path: string): string {
  return path.split("?")[0] ?? path;
}

function networkCode(error: unknown): string {
  const cause = error instanceof Error ? (error as { cause?: unknown }).cause : undefined;
  const code = typeof cause === "object" && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === "string" && /^[A-Z_]{2,40}$/.test(code) ? ` (${code})` : "";
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return JSON.parse(await response.text()) as unknown;
  } catch {
    return undefined;
  }
}

function invalidAnswer(status: number, requestId: string | undefined, message: string): PayApiError {
  return new PayApiError({
    type: "api_error",
    code: "pay_server_answer_invalid",
    message,
    statusCode: status || undefined,
    requestId,
  });
}
