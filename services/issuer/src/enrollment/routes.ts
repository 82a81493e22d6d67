/** Enrollment over the acquirer link: start (the wallet's JWE), then verify with the code sent to the phone on file. */
import type { FastifyInstance } from "fastify";
import { enrollmentRequestSchema, enrollmentVerifyRequestSchema } from "@mpay/protocol";
import type { IssuerHost } from "../host.ts";
import { parseInput } from "../http/input.ts";
import { enrollmentIdSchema, pathOf } from "../http/params.ts";

export function enrollmentRoutes(app: FastifyInstance, host: IssuerHost): void {
  app.post("/issuers/:issuerId/enrollments", async (request, reply) => {
    const { issuer } = pathOf(host, request, {});
    const body = parseInput(enrollmentRequestSchema, request.body);
    return reply.status(201).send(await issuer.enrollments.start(body.enrollment, body.payerRef));
  });

  app.post("/issuers/:issuerId/enrollments/:enrollmentId/verify", async (request) => {
    const { issuer, enrollmentId } = pathOf(host, request, { enrollmentId: enrollmentIdSchema });
    const body = parseInput(enrollmentVerifyRequestSchema, request.body);
    return issuer.enrollments.verify(enrollmentId, body.code);
  });
}
