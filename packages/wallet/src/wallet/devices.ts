/**
 * This device and the payer's others, under the power order (DESIGN.md): a second device binds on a bound device's
 * word and the PIN (`approveNewDevice` there, `bindThisDevice` here), then waits; revoking another device and
 * cancelling a pending change take the PIN. Every device sees what waits in `pendingChanges()`.
 */
import { WalletError } from "../errors.ts";
import type { Device, PendingChange, PinLoginPurpose } from "../pay-client.ts";
import type { WalletCore } from "./core.ts";

const KID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export class WalletDevices {
  readonly #core: WalletCore;

  constructor(core: WalletCore) {
    this.#core = core;
  }

  /**
   * Binds this device to the signed-in payer. The payer's first device needs nothing more; any later one needs
   * `approval` (the statement a bound device made with `approveNewDevice(<this device's kid>)`) and the payer's
   * `pin`, and is then `pending` until its waiting period ends (announced in the messenger).
   */
  async bindThisDevice(name: string, options?: { approval: string; pin: string }): Promise<Device> {
    const key = await this.#core.ensureDeviceKey();
    if (options === undefined) return this.#core.client.devices.bind({ publicKeyJwk: key.publicJwk, name });
    const pin = await this.#core.pinProof(options.pin, `bind-device:${key.kid}`);
    return this.#core.client.devices.bind({ publicKeyJwk: key.publicJwk, name, approval: options.approval, pin });
  }

  /**
   * On a bound device: vouches for a new device of the same payer, named by its key id (the `kid` its wallet shows,
   * for example in a QR code). The statement is good for 5 minutes; the new device sends it with `bindThisDevice`.
   */
  async approveNewDevice(deviceKey: string): Promise<string> {
    if (typeof deviceKey !== "string" || !KID_PATTERN.test(deviceKey)) {
      throw new WalletError("device_key_id_invalid", "the new device is named by its key id: 43 base64url characters");
    }
    const own = await this.#core.requireDeviceKey();
    if (own.kid === deviceKey)
      throw new WalletError("device_key_id_invalid", "a device cannot approve itself; scan the new device's key id");
    return this.#core.sign({ purpose: "bind-device", payerId: (await this.#core.payer()).id, deviceKey });
  }

  /** The server's record of this device, or undefined when it is not bound (or the key is not made yet). */
  async thisDevice(): Promise<Device | undefined> {
    const key = await this.#core.loadDeviceKey();
    if (key === undefined) return undefined;
    return (await this.#core.client.devices.list()).find((device) => device.keyThumbprint === key.kid);
  }

  list(): Promise<Device[]> {
    return this.#core.client.devices.list();
  }

  /**
   * What waits to take effect — new devices, recoveries (which revoke the other devices when they take effect), a
   * PIN reset: show each with its `activatesAt` and offer "Not me — cancel" (`cancelPendingChange`).
   */
  pendingChanges(): Promise<PendingChange[]> {
    return this.#core.client.pendingChanges.list();
  }

  /** Cancels a pending change with the payer's PIN (a device's word alone cancels nothing); answers what still waits. */
  async cancelPendingChange(change: Pick<PendingChange, "id" | "kind">, pin: string): Promise<PendingChange[]> {
    const purpose: PinLoginPurpose =
      change.kind === "pin_reset" ? `cancel-pin-reset:${change.id}` : `cancel-device:${change.id}`;
    return this.#core.client.pendingChanges.cancel(change.id, await this.#core.pinProof(pin, purpose));
  }

  /**
   * Revokes a device of this payer. This device revokes itself on its own word; revoking another device takes the
   * payer's `pin` as well (a stolen phone must not throw the payer's other devices out).
   */
  async revoke(deviceId: string, options: { pin?: string } = {}): Promise<Device> {
    const own = await this.#core.requireDeviceKey();
    const self = (await this.#core.client.devices.list()).find((d) => d.id === deviceId)?.keyThumbprint === own.kid;
    if (!self && options.pin === undefined)
      throw new WalletError("pin_format_invalid", "revoking another device takes the payer's PIN");
    const pin = self ? undefined : await this.#core.pinProof(options.pin!, `revoke-device:${deviceId}`);
    const signature = await this.#core.sign({
      purpose: "revoke-device",
      payerId: (await this.#core.payer()).id,
      deviceId,
    });
    return this.#core.client.devices.revoke(deviceId, { signature, ...(pin ? { pin } : {}) });
  }
}
