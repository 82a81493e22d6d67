/** The payer's passkeys: a biometric way to approve payments, added with an active device's word and the PIN. */
import {
  passkeyViewSchema,
  webAuthnCreationOptionsSchema,
  type PasskeyRegistrationOptionsRequest,
  type PasskeyView,
  type WebAuthnCreationOptions,
} from "@mpay/protocol";
import type { PayRequester } from "./request.ts";

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
}
