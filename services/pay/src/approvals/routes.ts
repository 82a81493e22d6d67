import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  approvalChallengeRequestSchema,
  approvalChallengeViewSchema,
  approveRequestSchema,
  releasedApprovalViewSchema,
  type ShareableDetail,
} from "@mpay/protocol";
import { errorResponse, idParam } from "../http/route-kit.ts";
import { payerOf } from "../payers/session.ts";
import type { ApprovalService } from "./service.ts";

const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

/** The payer's approval of a payment, from a bound device: never a merchant route. */
export function approvalRoutes(app: FastifyInstance, approvals: ApprovalService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/payer/payments/:id/approval-challenges",
    {
      schema: {
        tags: ["payer"],
        description:
          "The terms to show and sign, for the card the payer chose (a card of the vault enrolled on this device).",
        params: idParam,
        body: approvalChallengeRequestSchema,
        response: { 200: approvalChallengeViewSchema, ...errors },
      },
    },
    async (request) => {
      const payer = payerOf(request);
      const { challenge, terms, mandate, collect } = await approvals.challenge(payer, request.params.id, request.body);
      return {
        id: challenge.id,
        object: "approval_challenge" as const,
        terms,
        mandate,
        collect: collect as ShareableDetail[],
        expiresAt: challenge.expiresAt.toISOString(),
      };
    },
  );

  r.post(
    "/v1/payer/approval-challenges/:id/approve",
    {
      schema: {
        tags: ["payer"],
        description:
          "Approves with the device's signature over the terms and fresh user verification; answers with the card released to this device for this payment, encrypted to releaseKey.",
        params: idParam,
        body: approveRequestSchema,
        response: { 200: releasedApprovalViewSchema, ...errors },
      },
    },
    async (request) => {
      const payer = payerOf(request);
      const { approval, release } = await approvals.approve(payer, request.params.id, request.body);
      return {
        id: approval.id,
        object: "payment_approval" as const,
        paymentId: approval.paymentId,
        method: approval.method,
        createdAt: approval.createdAt.toISOString(),
        release,
      };
    },
  );
}
