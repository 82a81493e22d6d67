import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { answerIdempotent, errorResponse, idParam, listEnvelope, merchantOf } from "../http/route-kit.ts";
import type { RefundService } from "./service.ts";
import { refundSchema, refundView } from "./view.ts";
import { merchantAnswerCommitted } from "../fault-points.ts";

const createBody = z.strictObject({
  amount: z.number().int().positive().optional().describe("Minor units; omit to refund everything still refundable"),
  reason: z.string().max(200).optional(),
});
const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse };

export function refundRoutes(app: FastifyInstance, db: Db, refunds: RefundService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/payments/:id/refunds",
    {
      schema: {
        tags: ["refunds"],
        params: idParam,
        body: createBody.nullish(),
        response: { 200: refundSchema, ...errors },
      },
    },
    (request, reply) =>
      answerIdempotent(
        db,
        request,
        reply,
        "POST /v1/payments/:id/refunds",
        async (tx, auth) => ({
          statusCode: 200,
          body: refundView(await refunds.create(tx, auth, request.params.id, request.body ?? {})),
        }),
        // The crash drill's cut-off answer (issue 12): committed, not sent.
        { committed: merchantAnswerCommitted },
      ),
  );

  r.get(
    "/v1/payments/:id/refunds",
    { schema: { tags: ["refunds"], params: idParam, response: { 200: listEnvelope(refundSchema), ...errors } } },
    async (request) => {
      const rows = await refunds.listForPayment(merchantOf(request), request.params.id);
      return { object: "list" as const, data: rows.map(refundView), hasMore: false };
    },
  );

  r.get(
    "/v1/refunds/:id",
    { schema: { tags: ["refunds"], params: idParam, response: { 200: refundSchema, ...errors } } },
    async (request) => refundView(await refunds.retrieve(merchantOf(request), request.params.id)),
  );
}
