import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import {
  payerSessionViewSchema,
  payerViewSchema,
  signInCallbackQuerySchema,
  signInExchangeRequestSchema,
  signInStartRequestSchema,
  signInStartViewSchema,
} from "@mpay/protocol";
import { describeForLog, toApiError } from "../http/errors.ts";
import { errorResponse } from "../http/route-kit.ts";
import type { PayerRow } from "./store.ts";
import type { PayerService } from "./service.ts";
import { payerOf } from "./session.ts";

const payerView = (p: PayerRow) => ({
  id: p.id,
  object: "payer" as const,
  displayName: p.displayName,
  phoneNumber: p.phoneNumber,
  createdAt: p.createdAt.toISOString(),
});
const errors = { 400: errorResponse, 401: errorResponse, 503: errorResponse };

/** The wallet's sign-in landing page (apps/web), where the callback sends the browser with a code or an error. */
export const SIGN_IN_LANDING_PATH = "/wallet/signin";

/**
 * The payer's routes (the wallet's, never a merchant's): sign-in through the messenger, and the session's payer.
 * `webUrl` is the web app's origin (config.checkoutBaseUrl), whose landing page finishes the sign-in.
 */
export function payerRoutes(app: FastifyInstance, payers: PayerService, webUrl: string): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const landing = (param: "code" | "error", value: string) => {
    const url = new URL(SIGN_IN_LANDING_PATH, webUrl);
    url.searchParams.set(param, value);
    return url.href;
  };

  // The sign-in steps come before there is a session: public (session.ts).
  r.post(
    "/v1/payer/auth/start",
    {
      config: { public: true },
      schema: {
        tags: ["payer"],
        description:
          "Starts a messenger sign-in for a wallet that keeps a PKCE verifier (RFC 7636) and sends its S256 challenge: open authorizationUrl in the messenger; the messenger comes back to /v1/payer/auth/callback, which sends the browser to the wallet's landing page with a one-time code for POST /v1/payer/auth/exchange.",
        body: signInStartRequestSchema,
        response: { 200: signInStartViewSchema, ...errors },
      },
    },
    async (request) => payers.startSignIn(request.body.codeChallenge),
  );

  r.get(
    "/v1/payer/auth/callback",
    {
      config: { public: true },
      schema: {
        tags: ["payer"],
        description:
          "Where the messenger sends the payer back. Answers 303 to the wallet's landing page `<web>/wallet/signin?code=plc_…` (or `?error=<code>`): never a token on a page or in a URL.",
        querystring: signInCallbackQuerySchema,
      },
      // Every outcome is a redirect to the wallet, a malformed query too: the payer's browser never stops on JSON here.
      attachValidation: true,
    },
    async (request, reply) => {
      let location: string;
      if (request.validationError) {
        location = landing("error", "sign_in_invalid");
      } else {
        try {
          const { code } = await payers.finishSignIn(new URLSearchParams(request.url.split("?")[1] ?? ""));
          location = landing("code", code.peek());
        } catch (error) {
          const known = toApiError(error);
          if (!known) request.log.error({ err: describeForLog(error) }, "sign-in callback failed");
          location = landing("error", known?.code ?? "internal_error");
        }
      }
      // The landing URL holds a one-time code: no cache keeps it, and the page that follows sends no Referer.
      return reply.header("cache-control", "no-store").header("referrer-policy", "no-referrer").redirect(location, 303);
    },
  );

  r.post(
    "/v1/payer/auth/exchange",
    {
      config: { public: true },
      schema: {
        tags: ["payer"],
        description:
          "Exchanges the one-time sign-in code from the landing page's URL and the verifier of the challenge the sign-in started with for a payer session. Each code works once, for two minutes, and only with its verifier; every failure is `sign_in_invalid`.",
        body: signInExchangeRequestSchema,
        response: { 200: payerSessionViewSchema, ...errors },
      },
    },
    async (request, reply) => {
      const session = await payers.exchangeSignInCode(request.body.code, request.body.codeVerifier);
      reply.header("cache-control", "no-store");
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
    async (request) => payerView(payerOf(request)),
  );
}
