/** The payer's passkeys: a biometric way to approve payments, added with an active device's word and the PIN. */
import {
  passkeyListSchema,
  passkeyViewSchema,
  webAuthnCreationOptionsSchema,
  type PasskeyRegistrationOptionsRequest,
  type PasskeyView,
  type WebAuthnCreationOptions,
} from "@mpay/protocol";
import { segment, type PayRequester } from "./request.ts";

export type Passkey = PasskeyView;

export class Passkeys {
  readonly #core: PayRequester;

  constructor(core: PayRequester) {
    this.#core = core;
  }

  /**
   * WebAuthn creation options for a new passkey (hand them to `startRegistration({ optionsJSON })`): the device's
   * `add-passkey` statement and a finished PIN login.
   */
  registrationOptions(input: PasskeyRegistrationOptionsRequest): Promise<WebAuthnCreationOptions> {
    return this.#core.request("POST", "/v1/payer/passkeys/registration-options", webAuthnCreationOptionsSchema, input);
  }

  /** Registers what the authenticator made from those options; answers the passkey with its public key. */
  register(response: Record<string, unknown>): Promise<Passkey> {
    return this.#core.request("POST", "/v1/payer/passkeys", passkeyViewSchema, { response });
  }

  /** The payer's passkeys, from every device, revoked ones included (status `revoked`). */
  async list(): Promise<Passkey[]> {
    return (await this.#core.request("GET", "/v1/payer/passkeys", passkeyListSchema)).data;
  }

  /** Revokes a passkey at once: no later approval by it is accepted. */
  revoke(passkeyId: string): Promise<Passkey> {
    return this.#core.request("POST", `/v1/payer/passkeys/${segment(passkeyId)}/revoke`, passkeyViewSchema, {});
  }
}
