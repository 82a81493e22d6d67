import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { checkoutPushRequestSchema, checkoutPushViewSchema, checkoutViewSchema } from "@mpay/protocol";
import { errorResponse } from "../http/route-kit.ts";
import { PushRateLimited, type CheckoutService } from "./service.ts";

/** Any string: a malformed id is simply not found (404), as an unknown one is. */
const params = z.strictObject({ paymentId: z.string().min(1).max(64) });
const errors = { 400: errorResponse, 404: errorResponse, 409: errorResponse, 429: errorResponse };

/**
 * The hosted checkout's routes (apps/web `/checkout/:paymentId`): no merchant key and no payer session, the payment
 * id is the capability. Registered with the payer's routes (the web app's CORS, limits per address), so each is
 * declared public: the payer scope reads a session on every other route (payers/session.ts).
 */
export function checkoutRoutes(app: FastifyInstance, checkout: CheckoutService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/v1/checkout/:paymentId",
    {
      config: { public: true },
      schema: {
        tags: ["checkout"],
        security: [],
        description:
          "The payment as the hosted checkout shows it: the merchant's registered name, the item, the amount, the pairing code, and where to send the payer once it is decided (redirectUrl, null while it awaits approval).",
        params,
        response: { 200: checkoutViewSchema, ...errors },
      },
    },
    async (request) => checkout.view(request.params.paymentId),
  );

  r.post(
    "/v1/checkout/:paymentId/push",
    {
      config: { public: true },
      schema: {
        tags: ["checkout"],
        security: [],
        description:
          "Asks the payer to pay on the phone: when the number has an MPay account, MPay's official account sends a payment request to its messenger. The answer is the same either way. At most 3 per number and 10 per address within 10 minutes, 5 per payment (429 push_rate_limited with Retry-After).",
        params,
        body: checkoutPushRequestSchema,
        response: { 202: checkoutPushViewSchema, ...errors },
      },
    },
    async (request, reply) => {
      try {
        const pushed = await checkout.push(request.params.paymentId, request.body.phoneNumber, request.ip);
        return reply.status(202).send(pushed);
      } catch (error) {
        if (error instanceof PushRateLimited) reply.header("retry-after", String(error.retryAfterSeconds));
        throw error;
      }
    },
  );
}
