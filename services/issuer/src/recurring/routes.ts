/** Card-on-file tokens: issue from a device-signed mandate, revoke. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { mandateRequestSchema } from "@mpay/protocol";
import type { IssuerHost } from "../host.ts";
import { parseInput } from "../http/input.ts";
import { pathOf, recurringTokenValueSchema } from "../http/params.ts";

export function recurringRoutes(app: FastifyInstance, host: IssuerHost): void {
  app.post("/issuers/:issuerId/recurring-tokens", async (request, reply) => {
    const { issuer } = pathOf(host, request, {});
    const body = parseInput(mandateRequestSchema, request.body);
    return reply.status(201).send(await issuer.recurring.issue(body.mandate, body.payerRef));
  });

  app.post("/issuers/:issuerId/recurring-tokens/:token/revoke", async (request) => {
    const { issuer, token } = pathOf(host, request, { token: recurringTokenValueSchema });
    parseInput(z.strictObject({}), request.body);
    return issuer.recurring.revoke(token);
  });
}
