/** Capture, void and refunds of an authorization; each idempotent by its operationId. */
import type { FastifyInstance } from "fastify";
import { amountOperationSchema, voidOperationSchema } from "@mpay/protocol";
import type { IssuerHost } from "../host.ts";
import { parseInput } from "../http/input.ts";
import { pathOf, paymentIdSchema } from "../http/params.ts";

export function operationRoutes(app: FastifyInstance, host: IssuerHost): void {
  const path = { paymentId: paymentIdSchema };

  app.post("/issuers/:issuerId/authorizations/:paymentId/capture", async (request) => {
    const { issuer, paymentId } = pathOf(host, request, path);
    const body = parseInput(amountOperationSchema, request.body);
    return issuer.operations.capture(paymentId, body.operationId, body.amount);
  });

  app.post("/issuers/:issuerId/authorizations/:paymentId/void", async (request) => {
    const { issuer, paymentId } = pathOf(host, request, path);
    const body = parseInput(voidOperationSchema, request.body);
    return issuer.operations.void(paymentId, body.operationId);
  });

  app.post("/issuers/:issuerId/authorizations/:paymentId/refunds", async (request) => {
    const { issuer, paymentId } = pathOf(host, request, path);
    const body = parseInput(amountOperationSchema, request.body);
    return issuer.operations.refund(paymentId, body.operationId, body.amount);
  });
}
