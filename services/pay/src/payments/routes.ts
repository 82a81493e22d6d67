import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { CAPTURE_METHODS, PAYMENT_STATUSES } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { answerIdempotent, errorResponse, idParam, listEnvelope, listQuery, merchantOf } from "../http/route-kit.ts";
import type { PaymentService } from "./service.ts";
import { paymentSchema } from "./view.ts";

const createBody = z.strictObject({
  amount: z.number().int().positive().describe("Integer minor units (35000 KRW is 35000; 10.50 USD is 1050)"),
  currency: z.string().min(3).max(3).describe("ISO 4217, upper case"),
  orderId: z.string().min(1).max(64),
  itemName: z.string().min(1).max(200).describe("Shown to the payer as plain text"),
  returnUrl: z.string().max(2048).describe("On one of your registered origins"),
  cancelUrl: z.string().max(2048),
  captureMethod: z.enum(CAPTURE_METHODS).optional().describe("automatic (default) or manual"),
});

// Fastify hands a missing body over as null, so bodies that may be left out are nullish.
const captureBody = z.strictObject({ amount: z.number().int().positive().optional() }).nullish();

const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse };

/** Merchant routes for payments. None moves a payment out of requires_approval: only the payer's device does. */
export function paymentRoutes(app: FastifyInstance, db: Db, payments: PaymentService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post("/v1/payments", { schema: { tags: ["payments"], body: createBody, response: { 200: paymentSchema, ...errors } } }, (request, reply) =>
    answerIdempotent(db, request, reply, "POST /v1/payments", async (tx, auth) => ({
      statusCode: 200,
      body: payments.view(await payments.create(tx, auth, request.body)),
    })),
  );

  r.get("/v1/payments/:id", { schema: { tags: ["payments"], params: idParam, response: { 200: paymentSchema, ...errors } } }, async (request) =>
    payments.view(await payments.retrieve(merchantOf(request), request.params.id)),
  );

  r.get(
    "/v1/payments",
    {
      schema: {
        tags: ["payments"],
        querystring: z.strictObject({ ...listQuery, status: z.enum(PAYMENT_STATUSES).optional(), orderId: z.string().max(64).optional() }),
        response: { 200: listEnvelope(paymentSchema), ...errors },
      },
    },
    async (request) => {
      const { rows, hasMore } = await payments.list(merchantOf(request), request.query);
      return { object: "list" as const, data: rows.map((row) => payments.view(row)), hasMore };
    },
  );

  r.post(
    "/v1/payments/:id/capture",
    { schema: { tags: ["payments"], params: idParam, body: captureBody, response: { 200: paymentSchema, ...errors } } },
    (request, reply) =>
      answerIdempotent(db, request, reply, "POST /v1/payments/:id/capture", async (tx, auth) => ({
        statusCode: 200,
        body: payments.view(await payments.capture(tx, auth, request.params.id, request.body?.amount)),
      })),
  );

  r.post(
    "/v1/payments/:id/cancel",
    { schema: { tags: ["payments"], params: idParam, body: z.strictObject({}).nullish(), response: { 200: paymentSchema, ...errors } } },
    (request, reply) =>
      answerIdempotent(db, request, reply, "POST /v1/payments/:id/cancel", async (tx, auth) => ({
        statusCode: 200,
        body: payments.view(await payments.cancel(tx, auth, request.params.id)),
      })),
  );
}
