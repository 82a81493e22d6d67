import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { errorResponse, idParam, merchantOf } from "../http/route-kit.ts";
import { payerOf } from "../payers/session.ts";
import type { MandateService } from "./service.ts";
import { emptyRequestSchema, mandateListSchema, mandateViewSchema } from "@mpay/protocol";
import { mandateView } from "./view.ts";

const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
  503: errorResponse,
};

export function mandateMerchantRoutes(app: FastifyInstance, mandates: MandateService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    "/v1/mandates/:id",
    { schema: { tags: ["mandates"], params: idParam, response: { 200: mandateViewSchema, ...errors } } },
    async (request) => mandateView(await mandates.retrieve(merchantOf(request), request.params.id)),
  );
}

export function mandatePayerRoutes(app: FastifyInstance, mandates: MandateService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    "/v1/payer/mandates",
    { schema: { tags: ["payer"], response: { 200: mandateListSchema, ...errors } } },
    async (request) => ({
      object: "list" as const,
      data: (await mandates.list(payerOf(request))).map(mandateView),
      hasMore: false,
    }),
  );
  r.post(
    "/v1/payer/mandates/:id/revoke",
    {
      schema: {
        tags: ["payer"],
        description: "Withdraws the payer's consent: the issuer revokes the token, so no later charge passes.",
        params: idParam,
        body: emptyRequestSchema,
        response: { 200: mandateViewSchema, ...errors },
      },
    },
    async (request) => mandateView(await mandates.revoke(payerOf(request), request.params.id)),
  );
}
