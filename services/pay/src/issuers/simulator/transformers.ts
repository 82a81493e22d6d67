/**
 * Pure maps between the simulator's wire messages (packages/protocol issuer.ts) and the connector's types. Every
 * answer is parsed with the protocol's schema: a malformed answer is an `unavailable` error (the outcome is then
 * unknown and gets settled), never a guess.
 */
import { z } from "zod";
import {
  authorizationAnswerSchema,
  authorizationRecordSchema,
  enrolledCardSchema,
  enrollmentStartedSchema,
  issuerOperationAnswerSchema,
  recurringTokenSchema,
  type AuthorizationAnswer,
  type AuthorizationRecord,
  type EnrolledCard,
} from "@mpay/protocol";
import { IssuerError, type EnrollmentStarted, type IssuerListing, type RecurringToken } from "../connector.ts";

const listingSchema = z.array(z.object({ issuerId: z.string(), name: z.string(), certificate: z.string() }));
const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string().optional() }) });

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (!result.success)
    throw new IssuerError("unavailable", "issuer_answer_invalid", `the issuer's answer to ${what} is malformed`);
  return result.data;
}

export const toListing = (body: unknown): IssuerListing[] => parse(listingSchema, body, "the issuer list");
export const toAnswer = (body: unknown): AuthorizationAnswer =>
  parse(authorizationAnswerSchema, body, "an authorization");
export const toRecord = (body: unknown): AuthorizationRecord => parse(authorizationRecordSchema, body, "an inquiry");
/** A capture, void or refund answers with the operation and the authorization's books after it. */
export const toOperationRecord = (body: unknown): AuthorizationRecord =>
  parse(issuerOperationAnswerSchema, body, "an operation").authorization;
export const toEnrolledCard = (body: unknown): EnrolledCard =>
  parse(enrolledCardSchema, body, "an enrollment verification");

export function toEnrollmentStarted(body: unknown): EnrollmentStarted {
  const started = parse(enrollmentStartedSchema, body, "an enrollment");
  return { enrollmentId: started.enrollmentId, codeSentTo: started.codeSentTo, expiresAt: new Date(started.expiresAt) };
}

export function toRecurringToken(body: unknown): RecurringToken {
  const t = parse(recurringTokenSchema, body, "a recurring token");
  return { ...t, expiresAt: new Date(t.expiresAt) };
}

/**
 * An HTTP answer that is not a success: 4xx with the issuer's code → `refused` (nothing changed there); 5xx or a
 * body without a code → `unavailable` (the outcome is unknown).
 */
export function toError(status: number, body: unknown): IssuerError {
  const parsed = errorSchema.safeParse(body);
  if (status >= 400 && status < 500 && parsed.success) {
    return new IssuerError(
      "refused",
      parsed.data.error.code,
      parsed.data.error.message ?? `the issuer refused (${parsed.data.error.code})`,
      status,
    );
  }
  return new IssuerError("unavailable", "issuer_unavailable", `the issuer answered ${status}`, status);
}
