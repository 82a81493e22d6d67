/**
 * The messenger API's one error class and body, in the pay server's shape: `{ error: { type, code, message,
 * param?, requestId? } }`, HTTP status by type. Codes are stable (scripts branch on them); messages never carry a
 * secret, a stack or SQL.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import type { ZodError } from "zod";
import { bodyProblemOf, type ClientProblem, describeForLog, isClientAbort, ServiceApiError } from "@mpay/service-kit";

const STATUS = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  conflict_error: 409,
  payload_too_large_error: 413,
  rate_limit_error: 429,
  request_timeout_error: 408,
  header_too_large_error: 431,
  api_error: 500,
  service_unavailable_error: 503,
} as const;

type ErrorType = keyof typeof STATUS;

export const ERROR_CODES = {
  body_invalid_json: "invalid_request_error",
  body_too_large: "payload_too_large_error",
  parameter_missing: "invalid_request_error",
  parameter_invalid: "invalid_request_error",
  parameter_unknown: "invalid_request_error",
  phone_number_invalid: "invalid_request_error",
  password_too_weak: "invalid_request_error",
  phone_number_taken: "conflict_error",
  /** The phone number and password of `POST /api/sessions` do not match an account (which of them is not said). */
  credentials_invalid: "authentication_error",
  /** No, an unknown or an expired `Authorization: Bearer mss_…`. */
  session_invalid: "authentication_error",
  /** An official account's sender did not authenticate with its client id and secret (HTTP Basic). */
  client_authentication_failed: "authentication_error",
  /** The authenticated client does not operate this official account. */
  official_account_forbidden: "permission_error",
  account_not_found: "not_found_error",
  message_not_found: "not_found_error",
  official_account_not_found: "not_found_error",
  /** A message id sent again with other contents: ids are the sender's idempotency keys. */
  message_id_conflict: "conflict_error",
  /** A chat that does not exist or that the session's account is not a member of (the two are not told apart). */
  chat_not_found: "not_found_error",
  /** Adding yourself as a friend. */
  friend_invalid: "invalid_request_error",
  /** A chat's member must be a friend of the account that creates the chat. */
  not_a_friend: "permission_error",
  /** A clientMessageId sent again with another text or to another chat: it is the sender's idempotency key. */
  client_message_id_conflict: "conflict_error",
  route_not_found: "not_found_error",
  rate_limited: "rate_limit_error",
  /** Refused by Node's HTTP parser before any route (service-kit's http/edge.ts): framing, request line, method. */
  request_malformed: "invalid_request_error",
  headers_too_large: "header_too_large_error",
  request_timeout: "request_timeout_error",
  /** A request on a kept-alive connection while the messenger stops: retry it. */
  server_shutting_down: "service_unavailable_error",
  internal_error: "api_error",
} as const satisfies Record<string, ErrorType>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ApiErrorBody {
  error: { type: ErrorType; code: ErrorCode; message: string; param?: string; requestId?: string };
}

export { describeForLog };

/** The shared error class with the messenger's codes, each answered with the status of its type. */
export class ApiError extends ServiceApiError<ErrorCode> {
  /** Sent as `Retry-After` (a limit that knows its window). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, param?: string, options: { retryAfterSeconds?: number } = {}) {
    super(code, message, STATUS[ERROR_CODES[code]], param);
    this.name = "ApiError";
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function errorBody(error: ApiError, requestId?: string): ApiErrorBody {
  return {
    error: {
      type: ERROR_CODES[error.code],
      code: error.code,
      message: error.message,
      ...(error.param ? { param: error.param } : {}),
      ...(requestId ? { requestId } : {}),
    },
  };
}

/** The first issue of a zod failure as the most specific stable code; the message names the field. */
export function fromZod(error: ZodError): ApiError {
  const issue = error.issues[0];
  if (!issue) return new ApiError("parameter_invalid", "The request is invalid.");
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const param = path ? `${path}.${key}` : key;
    return new ApiError("parameter_unknown", `Received unknown parameter: ${param}.`, param);
  }
  // Zod 4 does not report the input itself; a missing field is the type error that "received undefined".
  if (issue.code === "invalid_type" && /received undefined$/.test(issue.message)) {
    return new ApiError("parameter_missing", `Missing required parameter: ${path}.`, path);
  }
  if (path === "phoneNumber") {
    return new ApiError(
      "phone_number_invalid",
      "phoneNumber must be in international E.164 format, for example +821012345678.",
      path,
    );
  }
  if (path === "password") return new ApiError("password_too_weak", issue.message, path);
  return new ApiError("parameter_invalid", `Invalid parameter ${path || "body"}: ${issue.message}.`, path || undefined);
}

/** Anything thrown in a request as an ApiError; null for an unexpected error (an opaque 500). */
export function toApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  switch (bodyProblemOf(error)) {
    case "too_large":
      return new ApiError("body_too_large", "The request body is larger than the messenger accepts (16 KiB).");
    case "invalid_json":
      return new ApiError("body_invalid_json", "The request body is not valid JSON.");
    case "unsupported_media_type":
      return new ApiError("parameter_invalid", "Send the body as application/json.");
  }
  if ((error as Partial<FastifyError> | null | undefined)?.statusCode === 429)
    return new ApiError("rate_limited", "Too many requests; slow down and try again in a minute.");
  return null;
}

/** What the edge answers a request Node's parser refused (service-kit's http/edge.ts). */
export function clientErrorBody(problem: ClientProblem, requestId: string): ApiErrorBody {
  const messages: Record<ClientProblem, string> = {
    request_malformed: "The request is not valid HTTP (its request line, headers or body framing).",
    headers_too_large: "The request line and headers are larger than the messenger accepts (16 KiB).",
    request_timeout: "The request took too long to arrive; send it again.",
  };
  return errorBody(new ApiError(problem, messages[problem]), requestId);
}

/** A client that hung up mid-request: routine, logged at info without a stack; the answer reaches no one. */
export function clientAbortError(request: FastifyRequest, error: unknown): ApiError | null {
  if (!isClientAbort(error)) return null;
  request.log.info({ code: (error as { code?: unknown }).code }, "client closed the connection");
  return new ApiError("request_malformed", "The request was cut short.");
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const apiError = toApiError(error) ?? clientAbortError(request, error);
  if (apiError) {
    if (apiError.retryAfterSeconds !== undefined) reply.header("retry-after", String(apiError.retryAfterSeconds));
    return reply.status(apiError.statusCode).send(errorBody(apiError, request.id));
  }
  request.log.error({ err: describeForLog(error) }, "request failed");
  return reply
    .status(500)
    .send(errorBody(new ApiError("internal_error", "Something went wrong on the messenger's side."), request.id));
}
