/**
 * Device unbinding (DESIGN.md "Split custody", point 7): when the payer revokes a device, the pay server sends an
 * authenticated unbind and waits for this acknowledgement. The key is revoked for good: every binding of it (to
 * any card of this issuer) and the passkeys bound with them end, and from then on nothing the device signs is
 * accepted here, nor can the key be enrolled again. A retry answers `bindings: 0` (nothing left to unbind).
 */
import { IssuerApiError } from "../http/errors.ts";
import type { IssuerCore } from "../issuer-core.ts";
import { everBound, unbindDevice } from "./store.ts";

export class DeviceService {
  constructor(private readonly issuer: IssuerCore) {}

  async unbind(deviceKid: string): Promise<{ unbound: true; bindings: number }> {
    if (!(await everBound(this.issuer.db, deviceKid)))
      throw new IssuerApiError("device_not_bound", "This device key was never bound to a card of this issuer.");
    const now = this.issuer.now();
    const bindings = await this.issuer.db.transaction((tx) => unbindDevice(tx, deviceKid, now));
    this.issuer.log.info({ event: "device_unbound", deviceKid, bindings }, "device unbound");
    return { unbound: true, bindings };
  }
}
