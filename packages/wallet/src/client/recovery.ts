/** Recovery of a payer who lost every device: this (unbound) device proves one of the payer's cards again. */
import {
  deviceRecoveryViewSchema,
  recoveredDeviceViewSchema,
  type DeviceRecoveryView,
  type DeviceRecoveryVerifyRequest,
  type RecoveredDeviceView,
} from "@mpay/protocol";
import type { DevicePublicJwk } from "../device-key.ts";
import { segment, type PayRequester } from "./request.ts";

export type DeviceRecovery = DeviceRecoveryView;
export type RecoveredDevice = RecoveredDeviceView;

export class Recovery {
  readonly #core: PayRequester;

  constructor(core: PayRequester) {
    this.#core = core;
  }

  start(input: {
    issuerId: string;
    enrollment: string;
    publicKeyJwk: DevicePublicJwk;
    name: string;
  }): Promise<DeviceRecovery> {
    return this.#core.request("POST", "/v1/payer/recoveries", deviceRecoveryViewSchema, input);
  }

  /** The issuer's code; with `pin` (a proof for `recovery:<id>`) the device is active at once and may revoke the others. */
  verify(recoveryId: string, input: DeviceRecoveryVerifyRequest): Promise<RecoveredDevice> {
    return this.#core.request(
      "POST",
      `/v1/payer/recoveries/${segment(recoveryId)}/verify`,
      recoveredDeviceViewSchema,
      input,
    );
  }
}
