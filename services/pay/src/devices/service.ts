/**
 * Device binding (DESIGN.md "Authentication without plugins"). The payer's first device binds on messenger
 * sign-in: there is nothing else to trust yet. Every later device needs a statement signed by an already active
 * device, and then waits (24 h by default) as `pending`, visible to the other devices, which can cancel it. So a
 * stolen messenger session alone can never add a device that pays. Revocation takes effect at once.
 *
 * At most MAX_DEVICES devices are live (active or pending) per payer: each holds its own key shares of the
 * payer's cards and is a way into the account, so the number is bounded to what one person carries (phone,
 * tablet, laptop, a browser, and one replacement under way), which also bounds what an attacker could pile up.
 */
import { newId } from "@mpay/protocol";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { AuditService } from "../audit/service.ts";
import type { PayerRow } from "../payers/store.ts";
import { deviceKeyThumbprint, signerOf, verifyDeviceStatement, type DeviceJwk } from "./signatures.ts";
import { cancelApprovedBy, devicesOf, effectiveStatus, endDevice, findByThumbprint, findDevice, insertDevice, lockDevicesOf, type DeviceRow } from "./store.ts";

export const MAX_DEVICES = 5;

export interface BindDeviceInput {
  publicKeyJwk: DeviceJwk;
  name: string;
  /** For every device but the first: `{ purpose: "bind-device", payerId, deviceKey }` signed by an active device. */
  approval?: string;
}

/**
 * What other contexts do when a device is revoked, inside the revocation's transaction (the card vault deletes the
 * device's K_srv rows and queues its unbinds at the issuers), and after it commits (the unbinds are sent).
 */
export interface RevocationStep {
  inTransaction(tx: Executor, device: DeviceRow): Promise<void>;
  afterCommit(device: DeviceRow): Promise<void>;
}

export class DeviceService {
  #revocationSteps: RevocationStep[] = [];

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly waitingPeriodSeconds: number,
  ) {}

  async bind(payer: PayerRow, input: BindDeviceInput): Promise<DeviceRow> {
    const thumbprint = await deviceKeyThumbprint(input.publicKeyJwk);
    const name = input.name.trim();
    if (!name || name.length > 60 || /[<>\p{Cc}]/u.test(name)) throw new ApiError("parameter_invalid", "name must be 1 to 60 characters of plain text.", "name");
    return this.db.transaction(async (tx) => {
      const existing = await lockDevicesOf(tx, payer.id);
      if (await findByThumbprint(tx, thumbprint)) throw new ApiError("device_already_bound", "This device key is already bound.");
      const now = new Date();
      const live = existing.filter((d) => ["active", "pending"].includes(effectiveStatus(d, now)));
      if (live.length >= MAX_DEVICES) {
        throw new ApiError("device_limit_reached", `A payer can bind at most ${MAX_DEVICES} devices; revoke one first.`);
      }
      let status: DeviceRow["status"] = "active";
      let activatesAt = now;
      let approvedBy = "first-sign-in";
      if (existing.length > 0) {
        if (!input.approval) {
          throw new ApiError("device_approval_required", "Approve this device from one of your bound devices; messenger sign-in alone cannot add a device.", "approval");
        }
        const kid = signerOf(input.approval);
        const signer = existing.find((d) => d.keyThumbprint === kid && effectiveStatus(d, now) === "active");
        if (!signer) throw new ApiError("device_signature_invalid", "The approval is not signed by one of your active devices.");
        await verifyDeviceStatement(input.approval, signer, { purpose: "bind-device", payerId: payer.id, deviceKey: thumbprint });
        status = "pending";
        activatesAt = new Date(now.getTime() + this.waitingPeriodSeconds * 1000);
        approvedBy = `device:${signer.id}`;
      }
      return this.#insertBinding(tx, payer, { thumbprint, publicKeyJwk: input.publicKeyJwk, name, status, activatesAt, approvedBy });
    });
  }

  /**
   * A device bound on the card issuer's word (the recovery of a payer who lost every device: the issuer checked
   * the cardholder of one of the payer's cards). It waits out the waiting period as `pending`, which the payer's
   * other devices see and can cancel; in the caller's transaction.
   */
  async bindRecovered(tx: Executor, payer: PayerRow, input: { publicKeyJwk: DeviceJwk; name: string; issuerId: string }): Promise<DeviceRow> {
    const thumbprint = await deviceKeyThumbprint(input.publicKeyJwk);
    const existing = await lockDevicesOf(tx, payer.id);
    if (await findByThumbprint(tx, thumbprint)) throw new ApiError("device_already_bound", "This device key is already bound.");
    const now = new Date();
    if (existing.filter((d) => ["active", "pending"].includes(effectiveStatus(d, now))).length >= MAX_DEVICES) {
      throw new ApiError("device_limit_reached", `A payer can bind at most ${MAX_DEVICES} devices; revoke one first.`);
    }
    return this.#insertBinding(tx, payer, {
      thumbprint,
      publicKeyJwk: input.publicKeyJwk,
      name: input.name,
      status: "pending",
      activatesAt: new Date(now.getTime() + this.waitingPeriodSeconds * 1000),
      approvedBy: `issuer:${input.issuerId}`,
    });
  }

  async #insertBinding(
    tx: Executor,
    payer: PayerRow,
    b: { thumbprint: string; publicKeyJwk: DeviceJwk; name: string; status: DeviceRow["status"]; activatesAt: Date; approvedBy: string },
  ): Promise<DeviceRow> {
    const device = await insertDevice(tx, {
      id: newId("device"),
      payerId: payer.id,
      keyThumbprint: b.thumbprint,
      publicKeyJwk: b.publicKeyJwk,
      name: b.name,
      status: b.status,
      activatesAt: b.activatesAt,
      approvedBy: b.approvedBy,
    });
    await this.audit.append(tx, {
      actor: `payer:${payer.id}`,
      action: b.status === "active" ? "device.bound" : "device.binding_requested",
      target: device.id,
      data: { approvedBy: b.approvedBy, activatesAt: b.activatesAt.toISOString() },
    });
    return device;
  }

  async list(payer: PayerRow): Promise<DeviceRow[]> {
    const now = new Date();
    return (await devicesOf(this.db, payer.id)).map((d) => ({ ...d, status: effectiveStatus(d, now) }));
  }

  /** Pending bindings the payer's devices should show, with the time each would become able to pay. */
  async pending(payer: PayerRow): Promise<DeviceRow[]> {
    return (await this.list(payer)).filter((d) => d.status === "pending");
  }

  /**
   * Revokes a device at once: every later approval it signs is refused, and the bindings still waiting that it
   * approved are canceled with it. An active device is revoked only on the word of an active device (itself or
   * another: `{ purpose: "revoke-device", payerId, deviceId }`), so a stolen messenger session cannot remove the
   * payer's devices; a device still waiting can be revoked with the session alone (it cannot pay yet).
   */
  /** Contexts wired in after this one add what a revocation must also do. */
  onRevocation(step: RevocationStep): void {
    this.#revocationSteps.push(step);
  }

  async revoke(payer: PayerRow, deviceId: string, signature?: string): Promise<DeviceRow> {
    const revoked = await this.db.transaction(async (tx) => {
      const now = new Date();
      const owned = await lockDevicesOf(tx, payer.id);
      const target = owned.find((d) => d.id === deviceId);
      if (!target) throw new ApiError("resource_missing", "No such device.", "id");
      const status = effectiveStatus(target, now);
      if (status === "active") {
        if (!signature) throw new ApiError("device_approval_required", "Revoking an active device must be signed by one of your active devices.", "signature");
        const signer = owned.find((d) => d.keyThumbprint === signerOf(signature) && effectiveStatus(d, now) === "active");
        if (!signer) throw new ApiError("device_signature_invalid", "The revocation is not signed by one of your active devices.");
        await verifyDeviceStatement(signature, signer, { purpose: "revoke-device", payerId: payer.id, deviceId });
      }
      const ended = await endDevice(tx, deviceId, "revoked", ["active", "pending"]);
      if (!ended) throw new ApiError("device_not_active", `The device is already ${target.status}.`);
      const canceled = await cancelApprovedBy(tx, payer.id, deviceId);
      for (const step of this.#revocationSteps) await step.inTransaction(tx, ended);
      await this.audit.append(tx, { actor: `payer:${payer.id}`, action: "device.revoked", target: deviceId, data: { canceledBindings: canceled } });
      return ended;
    });
    // The revocation stands whatever happens next; what is not acknowledged now is retried by the reconciler.
    for (const step of this.#revocationSteps) await step.afterCommit(revoked).catch(() => {});
    return revoked;
  }

  /** True while the device (by id) may act for the payer: bound, not revoked, past any waiting period. */
  async isActive(payerId: string, deviceId: string, db: Executor = this.db): Promise<boolean> {
    return (await this.activeDeviceById(payerId, deviceId, db)) !== null;
  }

  /**
   * Cancels a binding still in its waiting period, on the word of another active device:
   * `{ purpose: "cancel-device", payerId, deviceId }` signed by it.
   */
  async cancelPending(payer: PayerRow, deviceId: string, signature: string): Promise<DeviceRow> {
    const canceled = await this.db.transaction(async (tx) => {
      const now = new Date();
      const owned = await lockDevicesOf(tx, payer.id);
      const target = owned.find((d) => d.id === deviceId);
      if (!target) throw new ApiError("resource_missing", "No such device.", "id");
      if (effectiveStatus(target, now) !== "pending") throw new ApiError("device_not_active", "Only a binding still in its waiting period can be canceled; revoke an active device instead.");
      const kid = signerOf(signature);
      const signer = owned.find((d) => d.keyThumbprint === kid && d.id !== deviceId && effectiveStatus(d, now) === "active");
      if (!signer) throw new ApiError("device_signature_invalid", "The cancellation must be signed by another of your active devices.");
      await verifyDeviceStatement(signature, signer, { purpose: "cancel-device", payerId: payer.id, deviceId });
      const ended = await endDevice(tx, deviceId, "canceled", ["pending"]);
      if (!ended) throw new ApiError("device_not_active", "The binding is no longer pending.");
      // A canceled binding may already hold cards (a recovery enrolls one while it waits): they go as on revocation.
      for (const step of this.#revocationSteps) await step.inTransaction(tx, ended);
      await this.audit.append(tx, { actor: `payer:${payer.id}`, action: "device.binding_canceled", target: deviceId, data: { by: signer.id } });
      return ended;
    });
    for (const step of this.#revocationSteps) await step.afterCommit(canceled).catch(() => {});
    return canceled;
  }

  /** The payer's device by id, while it may act (bound, not revoked, past any waiting period). */
  async activeDeviceById(payerId: string, deviceId: string, db: Executor = this.db): Promise<DeviceRow | null> {
    const device = await findDevice(db, deviceId);
    return device !== null && device.payerId === payerId && effectiveStatus(device) === "active" ? device : null;
  }

  /** The payer's device by id while it is bound or waiting to be (not revoked, not canceled). */
  async liveDeviceById(payerId: string, deviceId: string, db: Executor = this.db): Promise<DeviceRow | null> {
    const device = await findDevice(db, deviceId);
    return device !== null && device.payerId === payerId && ["active", "pending"].includes(effectiveStatus(device)) ? device : null;
  }

  /** The payer's device that may sign now (active, not revoked), by key thumbprint; null otherwise. */
  async activeDevice(payerId: string, thumbprint: string): Promise<DeviceRow | null> {
    const device = await findByThumbprint(this.db, thumbprint);
    if (!device || device.payerId !== payerId || effectiveStatus(device) !== "active") return null;
    return device;
  }
}
