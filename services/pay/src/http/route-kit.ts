/** Small helpers every context's routes share: the authenticated merchant, idempotent POSTs, list queries. */
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { apiErrorAnswerSchema, listOf } from "@mpay/protocol";
import type { Db, Executor } from "../db/client.ts";
import type { MerchantAuth } from "./caller.ts";
import { ApiError } from "./errors.ts";
import { requestFingerprint, runIdempotent, runIdempotentInline, type KeyScope } from "./idempotency.ts";

export type { KeyScope };

declare module "fastify" {
  interface FastifyRequest {
    merchantAuth?: MerchantAuth;
  }
}

export function merchantOf(request: FastifyRequest): MerchantAuth {
  if (!request.merchantAuth)
    throw new ApiError("api_key_missing", "Send your secret key as `Authorization: Bearer sk_test_…`.");
  return request.merchantAuth;
}

/**
 * Called once the work and its answer are committed and before the answer is sent (not on a replay): the crash
 * drill's fault point for an answer lost after its commit (issue 12). Infrastructure does not know the point.
 */
export type AnswerCommitted = () => void;

/** Runs a POST's work in one transaction under its Idempotency-Key and answers with the (first) answer. */
export async function answerIdempotent(
  db: Db,
  request: FastifyRequest,
  reply: FastifyReply,
  route: string,
  work: (tx: Executor, auth: MerchantAuth) => Promise<{ statusCode: number; body: unknown }>,
  options: { replayable?: boolean; committed?: AnswerCommitted } = {},
): Promise<void> {
  const auth = merchantOf(request);
  const header = request.headers["idempotency-key"];
  const key = Array.isArray(header) ? header[0] : header;
  const answer = await runIdempotent(
    db,
    auth,
    route,
    key,
    requestFingerprint(request.params, request.body),
    async (tx) => {
      const result = await work(tx, auth);
      return { statusCode: result.statusCode, body: JSON.stringify(result.body) };
    },
    { replayable: options.replayable ?? true },
  );
  if (!answer.replayed) options.committed?.();
  if (answer.replayed) reply.header("idempotent-replayed", "true");
  // Awaiting the reply (it is thenable) tells Fastify the async handler answered by itself.
  await reply.status(answer.statusCode).type("application/json; charset=utf-8").send(answer.body);
}

/**
 * As answerIdempotent, for work that reserves the key and stores its answer in its own statements (KeyScope);
 * `work` returns null when the key was taken. `transaction: false` when the work is one autocommit statement.
 */
export async function answerIdempotentInline(
  db: Db,
  request: FastifyRequest,
  reply: FastifyReply,
  route: string,
  work: (db: Executor, auth: MerchantAuth, scope: KeyScope) => Promise<{ statusCode: number; body: string } | null>,
  options: { transaction: boolean; committed?: AnswerCommitted },
): Promise<void> {
  const auth = merchantOf(request);
  const header = request.headers["idempotency-key"];
  const key = Array.isArray(header) ? header[0] : header;
  const fingerprint = requestFingerprint(request.params, request.body);
  const answer = await runIdempotentInline(
    db,
    auth,
    route,
    key,
    fingerprint,
    (ex, scope) => work(ex, auth, scope),
    options,
  );
  if (!answer.replayed) options.committed?.();
  if (answer.replayed) reply.header("idempotent-replayed", "true");
  await reply.status(answer.statusCode).type("application/json; charset=utf-8").send(answer.body);
}

const ID_PATTERN = /^[a-z]{2,4}_[0-9A-Z]{26}$/;

export const idParam = z.strictObject({ id: z.string().regex(ID_PATTERN, "not an MPay id") });

export const listQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(20),
  startingAfter: z.string().regex(ID_PATTERN, "not an MPay id").optional(),
};

/** The list envelope and the error answer are the payer API's and the merchant API's alike (packages/protocol). */
export const listEnvelope = listOf;
export const errorResponse = apiErrorAnswerSchema;
