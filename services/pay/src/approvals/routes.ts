import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { approvalChallengeViewSchema, type ShareableDetail } from "@mpay/protocol";
import { errorResponse, idParam } from "../http/route-kit.ts";
import type { PayerService } from "../payers/service.ts";
import type { ApprovalService } from "./service.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };
const ref = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);

/** The payer's approval of a payment, from a bound device: never a merchant route. */
export function approvalRoutes(app: FastifyInstance, payers: PayerService, approvals: ApprovalService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/payer/payments/:id/approval-challenges",
    {
      schema: {
        tags: ["payer"],
        description: "The terms to show and sign, for the card the payer chose (a card of the vault enrolled on this device).",
        params: idParam,
        body: z.strictObject({ deviceKey: z.string().max(64), cardId: ref }),
        response: { 200: approvalChallengeViewSchema, ...errors },
      },
    },
    async (request) => {
      const payer = await payers.authenticate(request.headers.authorization);
      const { challenge, terms, mandate, collect } = await approvals.challenge(payer, request.params.id, request.body);
      return { id: challenge.id, object: "approval_challenge" as const, terms, mandate, collect: collect as ShareableDetail[], expiresAt: challenge.expiresAt.toISOString() };
    },
  );

  r.post(
    "/v1/payer/approval-challenges/:id/approve",
    {
      schema: {
        tags: ["payer"],
        description: "Approves with the device's signature over the terms and fresh user verification; answers with the card released to this device for this payment, encrypted to releaseKey.",
        params: idParam,
        body: z.strictObject({
          deviceSignature: z.string().max(4096),
          /** A P-256 public key the device made for this one payment. */
          releaseKey: z.record(z.string(), z.unknown()),
          verification: z.discriminatedUnion("method", [
            z.strictObject({ method: z.literal("pin"), loginId: z.string().max(64), finishLoginRequest: z.string().max(1024), challengeMac: z.string().max(128) }),
            z.strictObject({ method: z.literal("passkey"), assertion: z.record(z.string(), z.unknown()) }),
          ]),
        }),
        response: {
          200: z.object({ id: z.string(), object: z.literal("payment_approval"), paymentId: z.string(), method: z.enum(["pin", "passkey"]), createdAt: z.string(), release: z.string() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const payer = await payers.authenticate(request.headers.authorization);
      const { approval, release } = await approvals.approve(payer, request.params.id, request.body);
      return { id: approval.id, object: "payment_approval" as const, paymentId: approval.paymentId, method: approval.method, createdAt: approval.createdAt.toISOString(), release };
    },
  );
}
