/**
 * The witness's routes: `POST /issuers/:issuerId/audit-heads` on the acquirer link (the pay server sends its newest
 * signed head), `GET /issuers/:issuerId/audit-heads` in public (anyone fetches the heads to verify an export).
 */
import type { FastifyInstance } from "fastify";
import { witnessSubmissionSchema } from "@mpay/protocol";
import type { IssuerHost } from "../host.ts";
import { parseInput } from "../http/input.ts";
import { pathOf } from "../http/params.ts";

export function witnessSubmitRoutes(app: FastifyInstance, host: IssuerHost): void {
  app.post("/issuers/:issuerId/audit-heads", async (request) => {
    const { issuer } = pathOf(host, request, {});
    const { head, key } = parseInput(witnessSubmissionSchema, request.body);
    return issuer.witness.accept(head, key);
  });
}

export function witnessPublicRoutes(app: FastifyInstance, host: IssuerHost): void {
  app.get("/issuers/:issuerId/audit-heads", async (request) => pathOf(host, request, {}).issuer.witness.heads());
}
