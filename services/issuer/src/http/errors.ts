/**
 * The issuer host's one error class and body: `{ error: { code, message } }` with a code from ISSUER_ERROR_CODES
 * (@mpay/protocol) and the HTTP status that code always has. Messages are written here, never copied from input,
 * a library or the database: no stack, no echo of a field (a PAN, a code), no SQL.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import type { IssuerErrorCode } from "@mpay/protocol";

export const ERROR_STATUS: Record<IssuerErrorCode, number> = {
  request_invalid: 400,
  acquirer_unauthorized: 401,
  operator_unauthorized: 401,
  issuer_unknown: 404,
  enrollment_refused: 422,
  enrollment_locked: 429,
  enrollment_expired: 410,
  verification_code_invalid: 422,
  authorization_not_found: 404,
  amount_exceeds_authorized: 409,
  amount_exceeds_captured: 409,
  operation_not_allowed: 409,
  device_not_bound: 404,
  token_not_found: 404,
  mandate_refused: 422,
  card_not_found: 404,
  audit_head_invalid: 400,
  audit_key_changed: 409,
  audit_head_shrunk: 409,
  audit_head_forked: 409,
  route_not_found: 404,
  temporarily_unavailable: 503,
  internal_error: 500,
};

export class IssuerApiError extends Error {
  constructor(
    readonly code: IssuerErrorCode,
    message: string,
    /** Only where the status differs from the code's usual one (413 for a body too large). */
    readonly status: number = ERROR_STATUS[code],
  ) {
    super(message);
    this.name = "IssuerApiError";
  }
}

export function errorBody(error: IssuerApiError): { error: { code: IssuerErrorCode; message: string } } {
  return { error: { code: error.code, message: error.message } };
}

/** Anything thrown in a request as an IssuerApiError; null for an unexpected error (an opaque 500). */
export function toApiError(error: unknown): IssuerApiError | null {
  if (error instanceof IssuerApiError) return error;
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new IssuerApiError("request_invalid", "The request body is larger than the issuer accepts (32 KiB).", 413);
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new IssuerApiError("request_invalid", "The request body is not valid JSON.");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new IssuerApiError("request_invalid", "Send the body as application/json.", 415);
  }
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) return new IssuerApiError("request_invalid", "The request body is not valid JSON.");
  return null;
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const apiError = toApiError(error);
  if (apiError) return reply.status(apiError.status).send(errorBody(apiError));
  request.log.error({ err: describeForLog(error) }, "request failed");
  return reply.status(500).send(errorBody(new IssuerApiError("internal_error", "Something went wrong at the issuer. Inquire before you retry a payment.")));
}

/**
 * What an operator needs of an unexpected error and nothing more. A failed query's message would carry its
 * parameters (a PAN, for the card accounts), so of a database error only the server's code and message are kept.
 */
export function describeForLog(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const cause = (error as { cause?: unknown }).cause;
  if ("query" in error && "params" in error) {
    const db = cause instanceof Error ? cause : undefined;
    return { type: "DatabaseError", code: (db as { code?: string } | undefined)?.code, message: db?.message, stack: error.stack?.split("\n").slice(1, 6).join("\n") };
  }
  return { type: error.name, message: error.message, stack: error.stack?.split("\n").slice(0, 8).join("\n") };
}
