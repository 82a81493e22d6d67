import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { authorizeRequestSchema, paymentOutcomeViewSchema, PAYMENT_STATUSES } from "@mpay/protocol";
import { errorResponse, idParam } from "../http/route-kit.ts";
import { payerOf } from "../payers/session.ts";
import type { StatementSigner } from "../issuers/statement-signer.ts";
import type { AuthorizationService } from "./service.ts";

const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
  503: errorResponse,
};

/** The last step of a device payment, and the key issuers verify the pay server's statements with. */
export function authorizationRoutes(
  app: FastifyInstance,
  authorizations: AuthorizationService,
  signer: StatementSigner,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/payer/approvals/:id/authorize",
    {
      schema: {
        tags: ["payer"],
        description:
          "Sends the device's sign-then-encrypt JWE (the terms and the card, for the issuer only) to the card issuer, and answers with the payment as the issuer decided.",
        params: idParam,
        body: authorizeRequestSchema,
        response: { 200: paymentOutcomeViewSchema, ...errors },
      },
    },
    async (request) => {
      const payment = await authorizations.authorize(payerOf(request), request.params.id, request.body);
      return {
        id: payment.id,
        object: "payment" as const,
        status: payment.status as (typeof PAYMENT_STATUSES)[number],
        amount: payment.amount,
        currency: payment.currency,
        declineCode: payment.declineCode,
        mandate: payment.mandateId,
      };
    },
  );

  // Public: issuers fetch it to verify the pay server's statements.
  r.get("/.well-known/jwks.json", { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
    reply.header("cache-control", "public, max-age=300").send(await signer.jwks()),
  );
}
