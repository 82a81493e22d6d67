/**
 * The issuer host's one error class and body: `{ error: { code, message } }` with a code from ISSUER_ERROR_CODES
 * (@mpay/protocol) and the HTTP status that code always has. Messages are written here, never copied from input,
 * a library or the database: no stack, no echo of a field (a PAN, a code), no SQL.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { IssuerErrorCode } from "@mpay/protocol";
import { bodyProblemOf, type ClientProblem, describeForLog, isClientAbort, ServiceApiError } from "@mpay/service-kit";

export { describeForLog };

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

/** The shared error class with the issuer's codes, each answered with its usual status unless said. */
export class IssuerApiError extends ServiceApiError<IssuerErrorCode> {
  constructor(
    code: IssuerErrorCode,
    message: string,
    /** Only where the status differs from the code's usual one (413 for a body too large). */
    status: number = ERROR_STATUS[code],
  ) {
    super(code, message, status);
    this.name = "IssuerApiError";
  }
}

export function errorBody(error: IssuerApiError): { error: { code: IssuerErrorCode; message: string } } {
  return { error: { code: error.code, message: error.message } };
}

/** Anything thrown in a request as an IssuerApiError; null for an unexpected error (an opaque 500). */
export function toApiError(error: unknown): IssuerApiError | null {
  if (error instanceof IssuerApiError) return error;
  switch (bodyProblemOf(error)) {
    case "too_large":
      return new IssuerApiError("request_invalid", "The request body is larger than the issuer accepts (32 KiB).", 413);
    case "invalid_json":
      return new IssuerApiError("request_invalid", "The request body is not valid JSON.");
    case "unsupported_media_type":
      return new IssuerApiError("request_invalid", "Send the body as application/json.", 415);
    case null:
      return null;
  }
}

/** What the edge answers a request Node's parser refused (service-kit's http/edge.ts), with the status it gives. */
export function clientErrorBody(problem: ClientProblem): ReturnType<typeof errorBody> {
  const messages: Record<ClientProblem, string> = {
    request_malformed: "The request is not valid HTTP (its request line, headers or body framing).",
    headers_too_large: "The request line and headers are larger than the issuer accepts (16 KiB).",
    request_timeout: "The request took too long to arrive; send it again.",
  };
  return errorBody(new IssuerApiError("request_invalid", messages[problem]));
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const apiError = toApiError(error);
  if (apiError) return reply.status(apiError.statusCode).send(errorBody(apiError));
  // The client hung up mid-request: routine, nobody reads the answer; info without a stack, never an error.
  if (isClientAbort(error)) {
    request.log.info({ code: (error as { code?: unknown }).code }, "client closed the connection");
    return reply.status(400).send(errorBody(new IssuerApiError("request_invalid", "The request was cut short.")));
  }
  request.log.error({ err: describeForLog(error) }, "request failed");
  return reply
    .status(500)
    .send(
      errorBody(
        new IssuerApiError("internal_error", "Something went wrong at the issuer. Inquire before you retry a payment."),
      ),
    );
}
