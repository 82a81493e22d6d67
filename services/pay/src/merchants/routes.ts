import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { answerIdempotent, errorResponse, merchantOf } from "../http/route-kit.ts";
import type { LedgerService } from "../ledger/service.ts";
import type { Db } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import { MAX_ALLOWED_ORIGINS, type MerchantService } from "./service.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse };

export function merchantRoutes(app: FastifyInstance, db: Db, merchants: MerchantService, ledger: LedgerService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/api-keys/roll",
    {
      schema: {
        tags: ["account"],
        description:
          "Issues a new secret key for this mode; the current ones stop working after expiresInSeconds (default 0: at once).",
        body: z.strictObject({ expiresInSeconds: z.number().int().min(0).max(604_800).optional() }).nullish(),
        response: {
          200: z.object({ object: z.literal("api_key"), secretKey: z.string(), oldKeysExpireAt: z.string() }),
          ...errors,
        },
      },
    },
    (request, reply) =>
      answerIdempotent(
        db,
        request,
        reply,
        "POST /v1/api-keys/roll",
        async (tx, auth) => {
          const rolled = await merchants.rollSecretKey(
            auth.merchantId,
            auth.mode,
            request.body?.expiresInSeconds ?? 0,
            auth.actor,
            tx,
          );
          return {
            statusCode: 200,
            body: {
              object: "api_key" as const,
              secretKey: rolled.secretKey.peek(),
              oldKeysExpireAt: rolled.oldKeysExpireAt.toISOString(),
            },
          };
        },
        // The answer holds the new secret key, which is never stored: a repeated key is refused, not replayed.
        { replayable: false },
      ),
  );

  const accountSchema = z.object({
    object: z.literal("account"),
    id: z.string(),
    name: z.string(),
    displayName: z.string(),
    allowedOrigins: z.array(z.string()),
  });
  const accountView = (m: { id: string; name: string; displayName: string; allowedOrigins: string[] }) => ({
    object: "account" as const,
    id: m.id,
    name: m.name,
    displayName: m.displayName,
    allowedOrigins: m.allowedOrigins,
  });

  r.get(
    "/v1/account",
    {
      schema: {
        tags: ["account"],
        description: "This merchant: its names and the origins its returnUrl and cancelUrl may point at.",
        response: { 200: accountSchema, ...errors },
      },
    },
    async (request) => {
      const merchant = await merchants.get(merchantOf(request).merchantId);
      if (!merchant) throw new ApiError("resource_missing", "No such merchant.");
      return accountView(merchant);
    },
  );

  r.post(
    "/v1/account",
    {
      schema: {
        tags: ["account"],
        description: `Replaces the origins (https://shop.example) returnUrl and cancelUrl may point at: at most ${MAX_ALLOWED_ORIGINS}. Audited.`,
        body: z.strictObject({ allowedOrigins: z.array(z.string().max(200)).max(MAX_ALLOWED_ORIGINS) }),
        response: { 200: accountSchema, ...errors },
      },
    },
    (request, reply) =>
      answerIdempotent(db, request, reply, "POST /v1/account", async (tx, auth) => ({
        statusCode: 200,
        body: accountView(
          await merchants.setAllowedOrigins(tx, auth.merchantId, request.body.allowedOrigins, auth.actor),
        ),
      })),
  );

  r.get(
    "/v1/balances",
    {
      schema: {
        tags: ["account"],
        description: "Ledger balances of this merchant and mode, per account and currency (debits positive).",
        response: {
          200: z.object({
            object: z.literal("list"),
            data: z.array(z.object({ account: z.string(), currency: z.string(), balance: z.number().int() })),
            hasMore: z.boolean(),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const auth = merchantOf(request);
      const prefix = `${auth.merchantId}:${auth.mode}:`;
      const rows = (await ledger.balances(db, auth.merchantId)).filter((b) => b.account.startsWith(prefix));
      return {
        object: "list" as const,
        data: rows.map((b) => ({ ...b, account: b.account.slice(prefix.length) })),
        hasMore: false,
      };
    },
  );
}
