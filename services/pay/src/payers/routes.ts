import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  emptyRequestSchema,
  payerSessionViewSchema,
  payerViewSchema,
  signInCallbackQuerySchema,
  signInStartViewSchema,
} from "@mpay/protocol";
import { errorResponse } from "../http/route-kit.ts";
import type { PayerRow } from "./store.ts";
import type { PayerService } from "./service.ts";

declare module "fastify" {
  interface FastifyRequest {
    payer?: PayerRow;
  }
}

const payerView = (p: PayerRow) => ({
  id: p.id,
  object: "payer" as const,
  displayName: p.displayName,
  phoneNumber: p.phoneNumber,
  createdAt: p.createdAt.toISOString(),
});
const errors = { 400: errorResponse, 401: errorResponse, 503: errorResponse };

/** The payer's routes (the wallet's, never a merchant's): sign-in through the messenger, and the session's payer. */
export function payerRoutes(app: FastifyInstance, payers: PayerService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/payer/auth/start",
    {
      schema: {
        tags: ["payer"],
        description:
          "Starts a messenger sign-in: open authorizationUrl in the messenger; it comes back to /v1/payer/auth/callback.",
        body: emptyRequestSchema,
        response: { 200: signInStartViewSchema, ...errors },
      },
    },
    async () => payers.startSignIn(),
  );

  r.get(
    "/v1/payer/auth/callback",
    {
      schema: {
        tags: ["payer"],
        description: "Where the messenger sends the payer back; answers the session token for the wallet.",
        querystring: signInCallbackQuerySchema,
        response: { 200: payerSessionViewSchema, ...errors },
      },
    },
    async (request) => {
      const session = await payers.finishSignIn(new URLSearchParams(request.url.split("?")[1] ?? ""));
      return {
        object: "payer_session" as const,
        sessionToken: session.sessionToken.peek(),
        expiresAt: session.expiresAt.toISOString(),
        payer: payerView(session.payer),
      };
    },
  );

  r.get(
    "/v1/payer/me",
    { schema: { tags: ["payer"], response: { 200: payerViewSchema, ...errors } } },
    async (request) => {
      const payer = await payers.authenticate(request.headers.authorization);
      return payerView(payer);
    },
  );
}
