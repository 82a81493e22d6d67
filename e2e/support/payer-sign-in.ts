/**
 * The payer's sign-in against an in-process pay server (Fastify inject), as the wallet and its browser do it since
 * issue 9: start with the S256 challenge of a fresh verifier, walk the messenger (the caller's part), send the
 * messenger's redirect to the pay server's callback and read its 303 to the wallet's landing page, then exchange the
 * landing's code with the verifier.
 */
import type { FastifyInstance } from "fastify";
import { createSignInPkce, type SignInPkce } from "@mpay/wallet";
import { call, type Answer } from "../../services/pay/src/testing/system.ts";

export interface StartedSignIn extends SignInPkce {
  authorizationUrl: string;
  state: string;
}

/** The exchange's answer: a session, or (on a refusal) the error body; tests check the status first. */
export interface SessionAnswer {
  object: "payer_session";
  sessionToken: string;
  expiresAt: string;
  payer: { id: string; displayName: string; phoneNumber: string | null };
  error: { code: string; message: string };
}

/** `POST /v1/payer/auth/start` with the challenge of a verifier made here. */
export async function startSignIn(app: FastifyInstance): Promise<StartedSignIn> {
  const pkce = await createSignInPkce();
  const start = await call<{ authorizationUrl: string; state: string }>(app, "POST", "/v1/payer/auth/start", null, {
    codeChallenge: pkce.codeChallenge,
  });
  if (start.status !== 200) throw new Error(`sign-in start failed: ${start.raw}`);
  return { ...pkce, ...start.body };
}

/** The callback with the messenger's redirect query: answers the landing URL of its 303 (a code or an error). */
export async function landingOf(app: FastifyInstance, callbackQuery: string): Promise<URL> {
  const response = await app.inject({ method: "GET", url: `/v1/payer/auth/callback?${callbackQuery}` });
  const location = response.headers["location"];
  if (response.statusCode !== 303 || typeof location !== "string")
    throw new Error(`the callback answered ${response.statusCode}, not a 303: ${response.body.slice(0, 200)}`);
  return new URL(location);
}

/** `POST /v1/payer/auth/exchange` with the landing's code and the verifier. */
export function exchange(app: FastifyInstance, code: string, codeVerifier: string): Promise<Answer<SessionAnswer>> {
  return call<SessionAnswer>(app, "POST", "/v1/payer/auth/exchange", null, { code, codeVerifier });
}

/** The callback and the exchange: the session of a sign-in the messenger sent back with `callbackQuery`. */
export async function finishSignIn(
  app: FastifyInstance,
  callbackQuery: string,
  codeVerifier: string,
): Promise<Answer<SessionAnswer>> {
  const landing = await landingOf(app, callbackQuery);
  const code = landing.searchParams.get("code");
  if (!code) throw new Error(`the sign-in ended in an error: ${landing.searchParams.get("error")}`);
  return exchange(app, code, codeVerifier);
}
