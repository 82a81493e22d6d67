import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { CAPTURE_METHODS, MANDATE_INTERVALS, MAX_MANDATE_CHARGES_PER_PERIOD, SHAREABLE_DETAILS } from "@mpay/protocol";
import type { Db, Executor } from "../db/client.ts";
import type { MerchantAuth } from "../merchants/service.ts";
import type { PaymentRow } from "./store.ts";
import type { SharedDetailsService } from "../shared-details/service.ts";
import {
  answerIdempotent,
  answerIdempotentInline,
  errorResponse,
  idParam,
  listEnvelope,
  listQuery,
  merchantOf,
} from "../http/route-kit.ts";
import type { PaymentService } from "./service.ts";
import { paymentFilterQuery, paymentFilters } from "./list-filters.ts";
import { paymentSchema } from "./view.ts";
import { merchantAnswerCommitted as answerCommitted } from "../fault-points.ts";

const createBody = z.strictObject({
  amount: z.number().int().positive().describe("Integer minor units (35000 KRW is 35000; 10.50 USD is 1050)"),
  currency: z.string().min(3).max(3).describe("ISO 4217, upper case"),
  orderId: z.string().min(1).max(64),
  itemName: z.string().min(1).max(200).describe("Shown to the payer as plain text"),
  returnUrl: z
    .string()
    .max(2048)
    .optional()
    .describe("On one of your registered origins (required unless `mandate` is set)"),
  cancelUrl: z.string().max(2048).optional(),
  captureMethod: z.enum(CAPTURE_METHODS).optional().describe("automatic (default) or manual"),
  setupFutureUsage: z
    .strictObject({
      maxAmount: z
        .number()
        .int()
        .positive()
        .describe("The most one charge may take (minor units, the payment's currency)"),
      period: z
        .strictObject({
          interval: z.enum(MANDATE_INTERVALS).describe("Calendar periods in UTC: day, week (from Monday) or month"),
          maxCharges: z
            .number()
            .int()
            .min(1)
            .max(MAX_MANDATE_CHARGES_PER_PERIOD)
            .describe("The most charges in one period"),
          maxTotal: z
            .number()
            .int()
            .positive()
            .describe("The most all charges of one period add up to: from maxAmount to maxAmount × maxCharges"),
        })
        .describe("The most charges and the most money per period; the card's issuer declines a charge beyond them"),
      expiresAt: z.string().max(40).describe("The end date (ISO 8601), a minute to five years ahead"),
    })
    .optional()
    .describe(
      "Ask the payer for a card-on-file mandate with this payment, on this schedule: the payer signs it and the card's issuer holds every charge to it",
    ),
  mandate: z
    .string()
    .regex(/^rmd_[0-9A-Z]{26}$/)
    .optional()
    .describe("Charge this card-on-file mandate now, off-session (no payer present); the card's issuer decides"),
  collect: z
    .array(z.enum(SHAREABLE_DETAILS))
    .max(SHAREABLE_DETAILS.length)
    .optional()
    .describe("Personal details to ask the payer to share for this payment; they see what you ask and choose"),
});

// Fastify hands a missing body over as null, so bodies that may be left out are nullish.
const captureBody = z.strictObject({ amount: z.number().int().positive().optional() }).nullish();

const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse };

/** Charges a card-on-file mandate for a payment just created (authorizations/service.ts). */
export type MandateCharge = (
  tx: Executor,
  auth: MerchantAuth,
  payment: PaymentRow,
  mandateId: string,
) => Promise<PaymentRow>;

/**
 * Merchant routes for payments. None moves a payment out of requires_approval on the merchant's word alone: only
 * the payer's device does, or the issuer deciding a charge of a mandate the payer's device signed.
 */
export function paymentRoutes(
  app: FastifyInstance,
  db: Db,
  payments: PaymentService,
  chargeMandate: MandateCharge,
  shared: SharedDetailsService,
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/payments",
    { schema: { tags: ["payments"], body: createBody, response: { 200: paymentSchema, ...errors } } },
    (request, reply) => {
      const mandate = request.body.mandate;
      if (mandate === undefined)
        // One autocommit statement: the key, its answer and the payment (issue 11).
        return answerIdempotentInline(
          db,
          request,
          reply,
          "POST /v1/payments",
          (ex, auth, scope) => payments.createOnce(ex, auth, request.body, scope),
          { transaction: false },
        );
      return answerIdempotent(db, request, reply, "POST /v1/payments", async (tx, auth) => {
        const created = await payments.create(tx, auth, request.body);
        return { statusCode: 200, body: payments.view(await chargeMandate(tx, auth, created, mandate)) };
      });
    },
  );

  r.get(
    "/v1/payments/:id",
    { schema: { tags: ["payments"], params: idParam, response: { 200: paymentSchema, ...errors } } },
    async (request) => {
      const payment = await payments.retrieve(merchantOf(request), request.params.id);
      // The payer's shared details appear here only: never in lists, events or webhooks.
      return { ...payments.view(payment), sharedDetails: await shared.open(payment) };
    },
  );

  r.get(
    "/v1/payments",
    {
      schema: {
        tags: ["payments"],
        querystring: z.strictObject({ ...listQuery, ...paymentFilterQuery }),
        response: { 200: listEnvelope(paymentSchema), ...errors },
      },
    },
    async (request) => {
      const { limit, startingAfter, ...filters } = request.query;
      const { rows, hasMore } = await payments.list(merchantOf(request), {
        limit,
        ...(startingAfter ? { startingAfter } : {}),
        ...paymentFilters(filters),
      });
      return { object: "list" as const, data: rows.map((row) => payments.view(row)), hasMore };
    },
  );

  r.post(
    "/v1/payments/:id/capture",
    { schema: { tags: ["payments"], params: idParam, body: captureBody, response: { 200: paymentSchema, ...errors } } },
    (request, reply) =>
      answerIdempotentInline(
        db,
        request,
        reply,
        "POST /v1/payments/:id/capture",
        (tx, auth, scope) => payments.captureOnce(tx, auth, request.params.id, request.body?.amount, scope),
        { transaction: true, committed: answerCommitted },
      ),
  );

  r.post(
    "/v1/payments/:id/cancel",
    {
      schema: {
        tags: ["payments"],
        params: idParam,
        body: z.strictObject({}).nullish(),
        response: { 200: paymentSchema, ...errors },
      },
    },
    (request, reply) =>
      answerIdempotent(
        db,
        request,
        reply,
        "POST /v1/payments/:id/cancel",
        async (tx, auth) => ({
          statusCode: 200,
          body: payments.view(await payments.cancel(tx, auth, request.params.id)),
        }),
        { committed: answerCommitted },
      ),
  );
}
