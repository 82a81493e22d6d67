/** The payer's devices: binding (the power order decides what it needs), revoking, cancelling, statement nonces. */
import {
  deviceListSchema,
  deviceViewSchema,
  statementNonceViewSchema,
  type CancelDeviceRequest,
  type DeviceView,
  type RevokeDeviceRequest,
} from "@mpay/protocol";
import type { DevicePublicJwk } from "../device-key.ts";
import type { PinProof } from "./pin.ts";
import { segment, type PayRequester } from "./request.ts";

export type Device = DeviceView;
export type DeviceStatus = Device["status"];

export class Devices {
  readonly #core: PayRequester;

  constructor(core: PayRequester) {
    this.#core = core;
  }

  /** A single-use nonce for the next device statement (every statement carries one; the server spends it). */
  async statementNonce(): Promise<string> {
    return (await this.#core.request("POST", "/v1/payer/statement-nonces", statementNonceViewSchema, {})).nonce;
  }

  /**
   * Binds a device key: the payer's first device with nothing more; any later one with an active device's
   * `bind-device` statement and a PIN proof for `bind-device:<kid>`.
   */
  bind(input: { publicKeyJwk: DevicePublicJwk; name: string; approval?: string; pin?: PinProof }): Promise<Device> {
    const { kty, crv, x, y } = input.publicKeyJwk;
    return this.#core.request("POST", "/v1/payer/devices", deviceViewSchema, {
      publicKeyJwk: { kty, crv, x, y },
      name: input.name,
      ...(input.approval !== undefined ? { approval: input.approval } : {}),
      ...(input.pin !== undefined ? { pin: input.pin } : {}),
    });
  }

  async list(): Promise<Device[]> {
    return (await this.#core.request("GET", "/v1/payer/devices", deviceListSchema)).data;
  }

  /**
   * `signature`: `{ purpose: "revoke-device", payerId, deviceId, nonce }` by the device itself, or by another active
   * device together with `pin`, a PIN proof for `revoke-device:<id>`.
   */
  revoke(deviceId: string, input: RevokeDeviceRequest = {}): Promise<Device> {
    return this.#core.request("POST", `/v1/payer/devices/${segment(deviceId)}/revoke`, deviceViewSchema, input);
  }

  /** Cancels a pending binding: with `pin` (a PIN proof for `cancel-device:<id>`) or the waiting device's own `signature`. */
  cancel(deviceId: string, input: CancelDeviceRequest): Promise<Device> {
    return this.#core.request("POST", `/v1/payer/devices/${segment(deviceId)}/cancel`, deviceViewSchema, input);
  }
}
