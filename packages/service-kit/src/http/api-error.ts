/**
 * The one error class of MPay's HTTP APIs: a stable `code` that clients branch on, the HTTP status that code
 * answers with, and a message written for the caller that never carries a secret, a stack or SQL. Each service
 * keeps its own list of codes and their statuses (the pay server's and the messenger's in their `http/errors.ts`,
 * the issuer's in @mpay/protocol) and its own body shape; they all throw this class.
 */
export class ServiceApiError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    /** The HTTP status of the answer. */
    readonly statusCode: number,
    /** The request field at fault, when there is one. */
    readonly param?: string,
  ) {
    super(message);
    this.name = "ServiceApiError";
  }
}

/** What Fastify throws for a body it could not read, as a stable reason, or null for anything else. */
export type BodyProblem = "too_large" | "invalid_json" | "unsupported_media_type";

export function bodyProblemOf(error: unknown): BodyProblem | null {
  const fastifyError = error as { code?: unknown; statusCode?: unknown };
  switch (fastifyError?.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return "too_large";
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return "invalid_json";
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return "unsupported_media_type";
  }
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) return "invalid_json";
  return null;
}

/**
 * What an operator needs of an unexpected error and nothing more. A failed query's own message carries its SQL
 * parameters (a PAN, a password hash, anything a request sent), so of a database error (drizzle's, with `query`
 * and `params`) only the database server's code and message are kept, never the query or its parameters.
 */
export function describeForLog(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const cause = (error as { cause?: unknown }).cause;
  if ("query" in error && "params" in error) {
    const db = cause instanceof Error ? cause : undefined;
    // Only the stack's frames: drizzle's message, which the stack starts with, runs over lines ("…\nparams: …").
    const frames = error.stack?.split("\n").filter((line) => /^\s+at /.test(line));
    return {
      type: "DatabaseError",
      code: (db as { code?: string } | undefined)?.code,
      message: db?.message,
      stack: frames?.slice(0, 5).join("\n"),
    };
  }
  return { type: error.name, message: error.message, stack: error.stack?.split("\n").slice(0, 8).join("\n") };
}
