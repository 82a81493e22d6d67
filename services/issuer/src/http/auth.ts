/**
 * Bearer checks: the acquirer link (the pay server's secret) and the back office (the operator's token). Both sides
 * are hashed before a constant-time compare, so neither the length nor a prefix of the secret leaks in timing.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { Secret } from "@mpay/protocol";
import { IssuerApiError } from "./errors.ts";

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

export function bearerMatches(request: FastifyRequest, expected: Secret<string>): boolean {
  const header = request.headers.authorization;
  const match = typeof header === "string" ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header) : null;
  const given = digest(match?.[1] ?? "");
  // Compare even when the header is missing or malformed, so every refusal costs the same.
  return timingSafeEqual(given, digest(expected.peek())) && match !== null;
}

export function requireAcquirer(request: FastifyRequest, secret: Secret<string>): void {
  if (!bearerMatches(request, secret))
    throw new IssuerApiError("acquirer_unauthorized", "Send the acquirer secret as `Authorization: Bearer <secret>`.");
}

export function requireOperator(request: FastifyRequest, token: Secret<string>): void {
  if (!bearerMatches(request, token))
    throw new IssuerApiError("operator_unauthorized", "Send the operator token as `Authorization: Bearer <token>`.");
}
