import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { payerPaymentViewSchema, payerReceiptListQuerySchema, payerReceiptListSchema } from "@mpay/protocol";
import { errorResponse } from "../http/route-kit.ts";
import { payerOf } from "../payers/session.ts";
import type { ReceiptService } from "./service.ts";

/** Any string: a malformed id is simply not found (404), as an unknown one or someone else's is. */
const params = z.strictObject({ id: z.string().min(1).max(64) });
const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 503: errorResponse };

/** The payer's view of payments (the wallet's pay sheet and history), with the payer's session. */
export function receiptRoutes(app: FastifyInstance, receipts: ReceiptService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/v1/payer/payments",
    {
      schema: {
        tags: ["payer"],
        description:
          "The payer's receipts: the payments they approved, newest first, with the card's last four and issuer, and the refunds.",
        querystring: payerReceiptListQuerySchema,
        response: { 200: payerReceiptListSchema, ...errors },
      },
    },
    async (request) => {
      const payer = payerOf(request);
      const page = await receipts.list(payer, request.query);
      return { object: "list" as const, ...page };
    },
  );

  r.get(
    "/v1/payer/payments/:id",
    {
      schema: {
        tags: ["payer"],
        description:
          "A payment as the wallet's pay sheet shows it. Before anyone approved it, any signed-in payer holding its id sees it; once approved, only the payer who approved (others get payment_not_found).",
        params,
        response: { 200: payerPaymentViewSchema, ...errors },
      },
    },
    async (request) => {
      const payer = payerOf(request);
      return receipts.payment(payer, request.params.id);
    },
  );
}
