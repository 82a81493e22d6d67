/** The payer's card-on-file mandates (merchants that may charge a card off-session). */
import { mandateListSchema, mandateViewSchema, type MandateView } from "@mpay/protocol";
import { segment, type PayRequester } from "./request.ts";

export type Mandate = MandateView;

export class Mandates {
  readonly #core: PayRequester;

  constructor(core: PayRequester) {
    this.#core = core;
  }

  async list(): Promise<Mandate[]> {
    return (await this.#core.request("GET", "/v1/payer/mandates", mandateListSchema)).data;
  }

  /** Withdraws the payer's consent: the issuer revokes the token, so no later charge passes. */
  revoke(mandateId: string): Promise<Mandate> {
    return this.#core.request("POST", `/v1/payer/mandates/${segment(mandateId)}/revoke`, mandateViewSchema, {});
  }
}
