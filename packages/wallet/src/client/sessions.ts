/**
 * Sign-in through the messenger (OpenID Connect code flow, run by the pay server) and the session's payer.
 *
 * The sign-in ends in the wallet (issue 9): the wallet makes a PKCE pair (`createSignInPkce`, WebCrypto), keeps the
 * verifier (a web page in sessionStorage) and starts with the challenge; the messenger's redirect reaches the pay
 * server, which sends the browser on to the wallet's landing page with a one-time code (`?code=plc_…`, or
 * `?error=<code>`); the wallet exchanges that code with the verifier for the session. No page and no URL ever holds
 * the session token.
 */
import {
  payerSessionViewSchema,
  payerViewSchema,
  Secret,
  SIGN_IN_CODE_PATTERN,
  signInStartViewSchema,
  type PayerView,
  type SignInStartView,
} from "@mpay/protocol";
import { PayApiError } from "../errors.ts";
import type { PayRequester } from "./request.ts";

export type Payer = PayerView;
/** Open `authorizationUrl` in the messenger (its login page); it sends the payer back through the pay server. */
export type SignInStart = SignInStartView;
export interface PayerSession {
  /** `pst_…`: whoever holds it acts as the payer until `expiresAt`. Printed, it shows `[redacted]`. */
  readonly sessionToken: Secret<string>;
  readonly expiresAt: string;
  readonly payer: Payer;
}

/** A PKCE pair (RFC 7636, S256): keep `codeVerifier` until the exchange; send `codeChallenge` to start. */
export interface SignInPkce {
  codeVerifier: string;
  codeChallenge: string;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A fresh verifier (32 random bytes, 43 base64url characters) and its S256 challenge, over WebCrypto. */
export async function createSignInPkce(): Promise<SignInPkce> {
  const codeVerifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(codeVerifier));
  return { codeVerifier, codeChallenge: base64url(new Uint8Array(digest)) };
}

/**
 * The one-time code of the wallet's landing page (`<web>/wallet/signin?code=plc_…`): takes its URL, its query (with
 * or without `?`) or its parameters. A landing with `?error=<code>` (the sign-in failed at the messenger or at the
 * pay server) throws a PayApiError with that code; one with neither throws `sign_in_invalid`.
 */
export function signInCodeFrom(landing: string | URL | URLSearchParams): string {
  const params = landingParams(landing);
  const error = params.get("error");
  if (error !== null) {
    const code = /^[a-z_]{1,60}$/.test(error) ? error : "sign_in_invalid";
    throw new PayApiError({
      type: code === "messenger_unavailable" ? "service_unavailable_error" : "authentication_error",
      code,
      message: `the sign-in did not finish (${code}); start it again`,
    });
  }
  const code = params.get("code");
  if (code === null || !SIGN_IN_CODE_PATTERN.test(code))
    throw new PayApiError({
      type: "authentication_error",
      code: "sign_in_invalid",
      message: "the sign-in landing carries no sign-in code; start the sign-in again",
    });
  return code;
}

function landingParams(landing: string | URL | URLSearchParams): URLSearchParams {
  if (landing instanceof URLSearchParams) return landing;
  if (landing instanceof URL) return landing.searchParams;
  if (/^https?:\/\//i.test(landing)) return new URL(landing).searchParams;
  return new URLSearchParams(landing.replace(/^\?/, ""));
}

export class Sessions {
  readonly #core: PayRequester;

  constructor(core: PayRequester) {
    this.#core = core;
  }

  /**
   * The messenger's authorization URL for a new sign-in bound to `codeChallenge` (from `createSignInPkce`); the pay
   * server keeps its own PKCE verifier towards the messenger, the state and the nonce.
   */
  start(input: { codeChallenge: string }): Promise<SignInStart> {
    return this.#core.request("POST", "/v1/payer/auth/start", signInStartViewSchema, {
      codeChallenge: input.codeChallenge,
    });
  }

  /**
   * Exchanges the landing page's one-time code and the verifier kept since `start` for a session, which the client
   * then uses. A code works once, for about two minutes, and only with its verifier (else `sign_in_invalid`).
   */
  async exchange(input: { code: string; codeVerifier: string }): Promise<PayerSession> {
    const answer = await this.#core.request("POST", "/v1/payer/auth/exchange", payerSessionViewSchema, {
      code: input.code,
      codeVerifier: input.codeVerifier,
    });
    this.#core.useSession(answer.sessionToken);
    return { sessionToken: new Secret(answer.sessionToken), expiresAt: answer.expiresAt, payer: answer.payer };
  }

  /** The session's payer. */
  payer(): Promise<Payer> {
    return this.#core.request("GET", "/v1/payer/me", payerViewSchema);
  }
}
