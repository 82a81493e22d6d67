/** Changes waiting to take effect (new devices, recoveries, a PIN reset): every device should show them. */
import { pendingChangeListSchema, type PendingChangeView } from "@mpay/protocol";
import type { PinProof } from "./pin.ts";
import { segment, type PayRequester } from "./request.ts";

/** A change waiting to take effect: a new device, a recovery or a PIN reset (cancel it with a PIN proof). */
export type PendingChange = PendingChangeView;

export class PendingChanges {
  readonly #core: PayRequester;

  constructor(core: PayRequester) {
    this.#core = core;
  }

  async list(): Promise<PendingChange[]> {
    return (await this.#core.request("GET", "/v1/payer/pending-changes", pendingChangeListSchema)).data;
  }

  /** Cancels a pending change with a PIN proof for `cancel-device:<id>` or `cancel-pin-reset:<id>`; answers what still waits. */
  async cancel(id: string, pin: PinProof): Promise<PendingChange[]> {
    return (
      await this.#core.request("POST", `/v1/payer/pending-changes/${segment(id)}/cancel`, pendingChangeListSchema, {
        pin,
      })
    ).data;
  }
}
