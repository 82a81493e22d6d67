/**
 * The one error class of the pay server, and the one place that turns any thrown thing into the API's error
 * body. Messages are written for the merchant's engineer; they never carry a secret, a stack or a SQL text.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { ERROR_CODES, statusOf, type ApiErrorBody, type ErrorCode } from "@mpay/protocol";
import {
  bodyProblemOf,
  type ClientProblem,
  describeForLog,
  isClientAbort,
  isDatabaseUnavailable,
  ServiceApiError,
} from "@mpay/service-kit";
import { KeyProviderError, type KeyProviderErrorCode } from "../keys/provider.ts";

/** Key provider errors an operator acts on; the others (seal_invalid, …) stay internal errors (500). */
const PUBLIC_KEY_PROVIDER_CODES = [
  "vault_not_initialized",
  "vault_share_invalid",
  "vault_share_rejected",
  "vault_share_retired",
  "vault_unseal_unsupported",
] as const satisfies readonly (KeyProviderErrorCode & ErrorCode)[];

function isPublicKeyProviderCode(code: KeyProviderErrorCode): code is (typeof PUBLIC_KEY_PROVIDER_CODES)[number] {
  return (PUBLIC_KEY_PROVIDER_CODES as readonly string[]).includes(code);
}

export { describeForLog };

/** The shared error class with the pay server's codes (@mpay/protocol), each answered with its one status. */
export class ApiError extends ServiceApiError<ErrorCode> {
  constructor(code: ErrorCode, message: string, param?: string) {
    super(code, message, statusOf(code), param);
    this.name = "ApiError";
  }
}

/**
 * Thrown when work called out and did not learn the outcome (a card issuer that did not answer): what the work
 * wrote so far must commit — it records the operation in doubt for the reconciler — and the caller is answered
 * with `apiError`, stored under its Idempotency-Key like any answer, so a retry replays it and never repeats the
 * operation; the settled outcome shows on the payment and by webhook.
 */
export class OutcomePending extends Error {
  constructor(readonly apiError: ApiError) {
    super(apiError.message);
    this.name = "OutcomePending";
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

type ValidationIssue = { keyword: string; instancePath: string; message?: string; params: Record<string, unknown> };

/** Maps a schema failure to the most specific stable code (the first issue wins; the message names the field). */
function fromValidation(issues: ValidationIssue[], where: string): ApiError {
  const issue = issues[0];
  if (!issue) return new ApiError("parameter_invalid", "The request is invalid.");
  const path = issue.instancePath.replace(/^\//, "").replaceAll("/", ".");
  if (issue.keyword === "unrecognized_keys") {
    const keys = (issue.params["keys"] as string[] | undefined) ?? [];
    const param = path ? `${path}.${keys[0] ?? ""}` : (keys[0] ?? "");
    return new ApiError(
      "parameter_unknown",
      `Received unknown parameter: ${param}. Unknown parameters are refused, so a typo never goes unnoticed.`,
      param,
    );
  }
  // Zod 4 does not report the input itself; a missing field is the type error that "received undefined".
  if (issue.keyword === "invalid_type" && /received undefined$/.test(issue.message ?? "")) {
    return new ApiError("parameter_missing", `Missing required parameter: ${path}.`, path);
  }
  if (path === "amount" || path.endsWith(".amount")) {
    return new ApiError(
      "amount_invalid",
      "amount must be a positive integer number of minor units (no decimals, no strings).",
      path,
    );
  }
  if (path === "currency") {
    return new ApiError(
      "currency_unsupported",
      "currency must be an ISO 4217 code MPay supports, in upper case (for example KRW).",
      path,
    );
  }
  const subject = path
    ? `Invalid ${where === "querystring" ? "query parameter" : "parameter"} ${path}`
    : "Invalid request";
  return new ApiError("parameter_invalid", `${subject}: ${issue.message ?? "wrong value"}.`, path || undefined);
}

/** Turns anything thrown in a request into `{ status, body }`; unknown errors become an opaque 500. */
export function toApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  if (error instanceof KeyProviderError) {
    if (error.code === "vault_sealed")
      return new ApiError(
        "vault_sealed",
        "The vault is sealed; an operator must unseal it before this operation can run.",
      );
    // Their messages are written for operators and are free of secrets (keys/*.ts).
    if (isPublicKeyProviderCode(error.code)) return new ApiError(error.code, error.message);
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as FastifyError & { validationContext?: string }).validationContext ?? "body";
    return fromValidation(error.validation as unknown as ValidationIssue[], context);
  }
  switch (bodyProblemOf(error)) {
    case "too_large":
      return new ApiError("body_too_large", "The request body is larger than the API accepts (16 KiB).");
    case "invalid_json":
      return new ApiError("body_invalid_json", "The request body is not valid JSON.");
    case "unsupported_media_type":
      return new ApiError("parameter_invalid", "Send the body as application/json.");
  }
  if (isDatabaseUnavailable(error))
    return new ApiError(
      "database_unavailable",
      "MPay's database is unavailable for a moment; retry with the same Idempotency-Key.",
    );
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.code === "FST_ERR_RATE_LIMIT" || fastifyError.statusCode === 429)
    return new ApiError("rate_limited", "Too many requests; slow down and retry with backoff.");
  return null;
}

/** The answer to a request Node refused before routing (service-kit's http/edge.ts writes it on the socket). */
export function clientErrorBody(problem: ClientProblem, requestId: string): ApiErrorBody {
  const messages: Record<ClientProblem, string> = {
    request_malformed: "The request is not valid HTTP (its request line, headers or body framing).",
    headers_too_large: "The request line and headers are larger than the API accepts (16 KiB).",
    request_timeout: "The request took too long to arrive; send it again.",
  };
  return errorBody(new ApiError(problem, messages[problem]), requestId);
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const apiError = toApiError(error);
  if (apiError) {
    return reply.status(apiError.statusCode).send(errorBody(apiError, request.id));
  }
  // The client closed the connection mid-request: routine, nobody reads the answer, nothing for an operator.
  if (isClientAbort(error)) {
    request.log.info({ code: (error as { code?: unknown }).code }, "client closed the connection");
    return reply
      .status(400)
      .send(errorBody(new ApiError("request_malformed", "The request was cut short."), request.id));
  }
  request.log.error({ err: describeForLog(error) }, "request failed");
  const internal = new ApiError(
    "internal_error",
    "Something went wrong on MPay's side; it is safe to retry with the same Idempotency-Key.",
  );
  return reply.status(500).send(errorBody(internal, request.id));
}
