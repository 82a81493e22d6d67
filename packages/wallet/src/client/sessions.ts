/** Sign-in through the messenger (OpenID Connect code flow with PKCE, run by the pay server) and the session's payer. */
import {
  payerSessionViewSchema,
  payerViewSchema,
  Secret,
  signInStartViewSchema,
  type PayerView,
  type SignInStartView,
} from "@mpay/protocol";
import type { PayRequester } from "./request.ts";

export type Payer = PayerView;
/** Open `authorizationUrl` in the messenger (its login page); it sends the payer back to the pay server's callback. */
export type SignInStart = SignInStartView;
export interface PayerSession {
  /** `pst_…`: whoever holds it acts as the payer until `expiresAt`. Printed, it shows `[redacted]`. */
  readonly sessionToken: Secret<string>;
  readonly expiresAt: string;
  readonly payer: Payer;
}

export class Sessions {
  readonly #core: PayRequester;

  constructor(core: PayRequester) {
    this.#core = core;
  }

  /** The messenger's authorization URL for a new sign-in; the pay server keeps the PKCE verifier, state and nonce. */
  start(): Promise<SignInStart> {
    return this.#core.request("POST", "/v1/payer/auth/start", signInStartViewSchema, {});
  }

  /**
   * Hands the messenger's redirect to the pay server, which redeems the code; on success the client uses the new
   * session. Takes the callback URL, its query string (with or without `?`), or its parameters.
   */
  async finish(callback: string | URL | URLSearchParams): Promise<PayerSession> {
    const answer = await this.#core.request(
      "GET",
      `/v1/payer/auth/callback?${callbackQuery(callback)}`,
      payerSessionViewSchema,
    );
    this.#core.useSession(answer.sessionToken);
    return { sessionToken: new Secret(answer.sessionToken), expiresAt: answer.expiresAt, payer: answer.payer };
  }

  /** The session's payer. */
  payer(): Promise<Payer> {
    return this.#core.request("GET", "/v1/payer/me", payerViewSchema);
  }
}

function callbackQuery(callback: string | URL | URLSearchParams): string {
  if (callback instanceof URLSearchParams) return callback.toString();
  if (callback instanceof URL) return callback.search.slice(1);
  if (/^https?:\/\//i.test(callback)) return new URL(callback).search.slice(1);
  return callback.replace(/^\?/, "");
}
