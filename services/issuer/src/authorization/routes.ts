/** Authorization and inquiry over the acquirer link. A decline is a 200 with `decision: "declined"`. */
import type { FastifyInstance } from "fastify";
import { authorizationRequestSchema, type AuthorizationRequest } from "@mpay/protocol";
import type { IssuerHost } from "../host.ts";
import { parseInput } from "../http/input.ts";
import { pathOf, paymentIdSchema } from "../http/params.ts";
import type { UnauthenticatedRequest } from "./service.ts";

/** A device payment sent without an authentication result: still a request, declined `authentication_failed`. */
const unauthenticatedSchema = authorizationRequestSchema.options[0].omit({ authentication: true });

function parseAuthorization(body: unknown): AuthorizationRequest | UnauthenticatedRequest {
  const lacksAuthentication =
    typeof body === "object" && body !== null && "payment" in body && !("authentication" in body);
  return lacksAuthentication ? parseInput(unauthenticatedSchema, body) : parseInput(authorizationRequestSchema, body);
}

export function authorizationRoutes(app: FastifyInstance, host: IssuerHost): void {
  app.post("/issuers/:issuerId/authorizations", async (request) => {
    const { issuer } = pathOf(host, request, {});
    const answer = await issuer.authorizations.authorize(parseAuthorization(request.body));
    if (host.config.killAfterAuthorizationCommit) {
      host.log.warn(
        { paymentId: answer.paymentId },
        "ISSUER_TEST_KILL_AFTER_COMMIT: dying after the commit, before the answer",
      );
      process.kill(process.pid, "SIGKILL");
    }
    return answer;
  });

  app.get("/issuers/:issuerId/authorizations/:paymentId", async (request) => {
    const { issuer, paymentId } = pathOf(host, request, { paymentId: paymentIdSchema });
    return issuer.authorizations.inquire(paymentId);
  });
}
