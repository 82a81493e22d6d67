/** Passkeys (biometrics) as another way to approve payments, added with this device's word and the PIN. */
import type { Passkey } from "../pay-client.ts";
import { assertPinFormat } from "../pin.ts";
import { wipe } from "../secrets.ts";
import type { WalletCore } from "./core.ts";

export class WalletPasskeys {
  readonly #core: WalletCore;

  constructor(core: WalletCore) {
    this.#core = core;
  }

  /**
   * Adds a passkey, vouched for by this device and proved with the PIN (a device's word alone adds none). `create`
   * runs the WebAuthn ceremony: `startRegistration({ optionsJSON })` of @simplewebauthn/browser in a page. Keep the
   * answer's `{ id, publicKey }` to bind it at enrollment (`startCardEnrollment(…, { passkeys })`), so the issuer
   * can check passkey approvals itself.
   */
  async add(
    pin: string,
    create: (options: Record<string, unknown>) => Promise<Record<string, unknown>>,
  ): Promise<Passkey> {
    assertPinFormat(pin);
    const deviceSignature = await this.#core.sign({ purpose: "add-passkey", payerId: (await this.#core.payer()).id });
    const login = await this.#core.pinLogin(pin, "add-passkey");
    wipe(login.finished.sessionKey);
    const options = await this.#core.client.passkeys.registrationOptions({
      deviceSignature,
      pin: { loginId: login.loginId, finishLoginRequest: login.finished.finishLoginRequest },
    });
    return this.#core.client.passkeys.register(await create(options));
  }
}
