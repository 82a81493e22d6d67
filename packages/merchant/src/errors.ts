/**
 * The SDK's errors: one class per API error `type` (docs/merchant-api.md "Conventions"), each carrying the stable
 * `code`, the `param` at fault, the `requestId` to quote to support and the HTTP `statusCode`, as stripe-node's do.
 * One function (`errorFromAnswer`) maps an answer to its class; a caller branches with `instanceof` or on `code`.
 */

export interface MPayErrorFields {
  message: string;
  type?: string | undefined;
  code?: string | undefined;
  param?: string | undefined;
  requestId?: string | undefined;
  statusCode?: number | undefined;
  /** Seconds the server asked to wait (429/503 `Retry-After`). */
  retryAfter?: number | undefined;
  cause?: unknown;
}

export class MPayError extends Error {
  /** The API's error type, `invalid_request_error`…, or `connection_error` when no answer came. */
  readonly type: string;
  /** The stable error code (`parameter_invalid`, `resource_missing`…); `undefined` when no answer came. */
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly requestId: string | undefined;
  readonly statusCode: number | undefined;
  readonly retryAfter: number | undefined;

  constructor(fields: MPayErrorFields) {
    super(fields.message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = new.target.name;
    this.type = fields.type ?? "api_error";
    this.code = fields.code;
    this.param = fields.param;
    this.requestId = fields.requestId;
    this.statusCode = fields.statusCode;
    this.retryAfter = fields.retryAfter;
  }
}

/** 400 (and 413): the request is wrong; fix it, retrying the same request will not help. */
export class InvalidRequestError extends MPayError {}
/** 401: no key, a wrong key, or an expired one. */
export class AuthenticationError extends MPayError {}
/** 403: the key may not do this (a publishable key on a secret-key route, live mode refused…). */
export class PermissionError extends MPayError {}
/** 404: no such object in this merchant's account and mode. */
export class NotFoundError extends MPayError {}
/** 409: the object is not in a state that allows this, or an Idempotency-Key was reused for another request. */
export class ConflictError extends MPayError {}
/** 429: slow down; the SDK already retried with backoff. */
export class RateLimitError extends MPayError {}
/** 500: something went wrong on MPay's side; safe to retry with the same Idempotency-Key. */
export class APIError extends MPayError {}
/** 503: a dependency (the card issuer, a sealed vault) is unavailable. */
export class ServiceUnavailableError extends MPayError {}
/** No answer: the network failed or the request timed out. With an Idempotency-Key, a retry is safe. */
export class ConnectionError extends MPayError {}

const BY_TYPE: Record<string, new (fields: MPayErrorFields) => MPayError> = {
  invalid_request_error: InvalidRequestError,
  payload_too_large_error: InvalidRequestError,
  header_too_large_error: InvalidRequestError,
  // The server gave up waiting for the rest of the request: nothing ran, so it is retried (retry.ts) and, when the
  // retries run out, reads as the connection's failure it was.
  request_timeout_error: ConnectionError,
  authentication_error: AuthenticationError,
  permission_error: PermissionError,
  not_found_error: NotFoundError,
  conflict_error: ConflictError,
  rate_limit_error: RateLimitError,
  api_error: APIError,
  service_unavailable_error: ServiceUnavailableError,
};

const BY_STATUS: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  408: "request_timeout_error",
  409: "conflict_error",
  413: "payload_too_large_error",
  429: "rate_limit_error",
  431: "header_too_large_error",
  503: "service_unavailable_error",
};

interface ErrorEnvelope {
  error?: { type?: unknown; code?: unknown; message?: unknown; param?: unknown; requestId?: unknown };
}

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** The error for a non-2xx answer: by the body's `type` when it has one, else by the HTTP status. */
export function errorFromAnswer(
  statusCode: number,
  body: unknown,
  headers: { requestId?: string | undefined; retryAfter?: number | undefined },
): MPayError {
  const error = (body as ErrorEnvelope | null)?.error;
  const type = text(error?.type) ?? BY_STATUS[statusCode] ?? "api_error";
  const Class = BY_TYPE[type] ?? (statusCode >= 500 ? APIError : MPayError);
  return new Class({
    type,
    message: text(error?.message) ?? `MPay answered HTTP ${statusCode} without an error body.`,
    code: text(error?.code),
    param: text(error?.param),
    requestId: text(error?.requestId) ?? headers.requestId,
    statusCode,
    retryAfter: headers.retryAfter,
  });
}
