/**
 * Device binding and revocation under the power order (DESIGN.md "Authentication without plugins"; issue 7). Three
 * proofs exist: the device's signature (something the phone holds), the PIN proof over OPAQUE (something the payer
 * knows) and the issuer's cardholder check (the card: a phone thief does not hold it; the recovery context uses it).
 * The device's word alone never binds a device that can pay, never cancels a pending change and never keeps a device
 * the cardholder wants gone:
 *
 * - the payer's first device binds on messenger sign-in (there is nothing else to trust yet);
 * - another device needs an active device's signature AND a PIN proof, then waits the waiting period as `pending`
 *   (announced; cancellable with a PIN proof);
 * - a pending binding is canceled by a PIN proof, by its own device withdrawing, or by a recovery (another issuer
 *   check); a device's word for another device cancels nothing;
 * - an active device is revoked by its own word, by another active device's word with a PIN proof, or by a recovery;
 *   a recovery without the PIN schedules the revocation of the others for the moment it takes effect (`revokeAt`).
 *
 * At most MAX_DEVICES devices are live (active or pending) per payer: each holds its own key shares of the payer's
 * cards and is a way into the account, so the number is bounded to what one person carries.
 */
import { randomBytes } from "node:crypto";
import { newId } from "@mpay/protocol";
import type { Clock } from "@mpay/service-kit";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { AuditService } from "../audit/service.ts";
import type { AnnouncementRef, AnnouncementService } from "../announcements/service.ts";
import type { PayerRow } from "../payers/service.ts";
import {
  deviceKeyThumbprint,
  signerOf,
  STATEMENT_LIFETIME_SECONDS,
  verifyDeviceStatement,
  type DeviceJwk,
} from "./signatures.ts";
import {
  cancelApprovedBy,
  devicesOf,
  effectiveStatus,
  endDevice,
  findByThumbprint,
  findDevice,
  insertDevice,
  insertStatementNonce,
  lockDevicesOf,
  payersWithDueRevocations,
  purgeStatementNonces,
  scheduleRevocationOfOthers,
  spendStatementNonce,
  trimStatementNonces,
  type DeviceRow,
} from "./store.ts";

/** The row other contexts see; they import it from here, never from the store. */
export type { DeviceRow } from "./store.ts";

export const MAX_DEVICES = 5;
/** Outstanding statement nonces per payer: more than a wallet ever needs at once, few enough to bound the table. */
const MAX_OUTSTANDING_NONCES = 100;

/** A finished OPAQUE login, as the wallet sends it: proof that the payer knows the PIN, for one purpose. */
export interface PinProof {
  loginId: string;
  finishLoginRequest: string;
}

/** Checks a PIN proof for `purpose` (the PIN context implements it; wired in after both exist). */
export interface PinProofs {
  prove(payer: PayerRow, proof: PinProof, purpose: string): Promise<unknown>;
}

export interface BindDeviceInput {
  publicKeyJwk: DeviceJwk;
  name: string;
  /** For every device but the first: `{ purpose: "bind-device", payerId, deviceKey, nonce }` signed by an active device. */
  approval?: string | undefined;
  /** For every device but the first: a PIN proof for `bind-device:<the new device's key thumbprint>`. */
  pin?: PinProof | undefined;
}

/** Who may sign a statement: an active device, or any live one (a device still in its waiting period). */
type SignerRule = "active" | "live";

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
  #pins: PinProofs | undefined;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly waitingPeriodSeconds: number,
    private readonly clock: Clock,
    private readonly announcements: AnnouncementService,
  ) {}

  /** Contexts wired in after this one add what a revocation must also do. */
  onRevocation(step: RevocationStep): void {
    this.#revocationSteps.push(step);
  }

  /** The PIN context, wired in after it exists (it needs this one). */
  usePinProofs(pins: PinProofs): void {
    this.#pins = pins;
  }

  async #provePin(payer: PayerRow, proof: PinProof | undefined, purpose: string, param = "pin"): Promise<void> {
    if (!proof)
      throw new ApiError(
        "pin_proof_required",
        "This change needs the payment PIN: prove it with a PIN login for this purpose.",
        param,
      );
    if (!this.#pins) throw new Error("DeviceService: PIN proofs are not wired");
    await this.#pins.prove(payer, proof, purpose);
  }

  // --- statements: the device's word, once ---

  /** A single-use nonce for the payer's next device statement, good for STATEMENT_LIFETIME_SECONDS. */
  async statementNonce(payer: PayerRow): Promise<{ nonce: string; expiresAt: Date }> {
    const nonce = randomBytes(24).toString("base64url");
    const expiresAt = new Date(this.clock.now().getTime() + STATEMENT_LIFETIME_SECONDS * 1000);
    await insertStatementNonce(this.db, { nonce, payerId: payer.id, expiresAt });
    await trimStatementNonces(this.db, payer.id, MAX_OUTSTANDING_NONCES);
    return { nonce, expiresAt };
  }

  /**
   * Checks a statement of one of the payer's devices: signed by a device allowed by `rule` (or by `signer` when the
   * caller already knows which device must sign), covering exactly `expected`, recent, and with a nonce this
   * server issued to the payer, which it spends (in `tx` when given: a rolled-back change leaves it unspent).
   */
  async verifyStatement(
    payer: PayerRow,
    jws: string,
    expected: Record<string, string>,
    options: { tx?: Executor; rule?: SignerRule; signer?: DeviceRow; param?: string } = {},
  ): Promise<DeviceRow> {
    const db = options.tx ?? this.db;
    const now = this.clock.now();
    const kid = signerOf(jws);
    const device = options.signer ?? (await findByThumbprint(db, kid));
    const status = device && device.payerId === payer.id ? effectiveStatus(device, now) : null;
    if (!device || status === null || device.keyThumbprint !== kid) {
      throw new ApiError(
        "device_signature_invalid",
        options.signer ? "This must be signed by the device it concerns." : "Sign with one of your active devices.",
        options.param,
      );
    }
    const allowed = options.rule === "live" ? status === "active" || status === "pending" : status === "active";
    if (!allowed)
      throw new ApiError(
        "device_not_active",
        `The signing device is ${status}: sign with one of your active devices.`,
        options.param,
      );
    const { nonce } = await verifyDeviceStatement(jws, device, expected, Math.floor(now.getTime() / 1000));
    if (!(await spendStatementNonce(db, payer.id, nonce, now))) {
      throw new ApiError(
        "device_signature_invalid",
        "The device signature was refused: its nonce is unknown, used or expired; sign again with a new one.",
        options.param,
      );
    }
    return device;
  }

  // --- binding ---

  async bind(payer: PayerRow, input: BindDeviceInput): Promise<DeviceRow> {
    const thumbprint = await deviceKeyThumbprint(input.publicKeyJwk);
    const name = deviceName(input.name);
    // The PIN is proved before the transaction (its login has its own writes); a later refusal leaves it spent.
    const first = (await devicesOf(this.db, payer.id)).length === 0;
    if (!first) {
      if (!input.approval) {
        throw new ApiError(
          "device_approval_required",
          "Approve this device from one of your bound devices; messenger sign-in alone cannot add a device.",
          "approval",
        );
      }
      await this.#provePin(payer, input.pin, `bind-device:${thumbprint}`);
    }
    const { device, announced } = await this.db.transaction(async (tx) => {
      const existing = await lockDevicesOf(tx, payer.id);
      if (await findByThumbprint(tx, thumbprint))
        throw new ApiError("device_already_bound", "This device key is already bound.");
      const now = this.clock.now();
      this.#assertRoom(existing, now);
      if (existing.length === 0) {
        return {
          device: await this.#insertBinding(tx, payer, {
            thumbprint,
            publicKeyJwk: input.publicKeyJwk,
            name,
            status: "active",
            activatesAt: now,
            approvedBy: "first-sign-in",
          }),
          announced: [],
        };
      }
      if (first)
        throw new ApiError(
          "device_approval_required",
          "Another device was bound meanwhile; approve this one from it.",
          "approval",
        );
      const signer = await this.verifyStatement(
        payer,
        input.approval!,
        { purpose: "bind-device", payerId: payer.id, deviceKey: thumbprint },
        { tx, param: "approval" },
      );
      const pending = await this.#insertBinding(tx, payer, {
        thumbprint,
        publicKeyJwk: input.publicKeyJwk,
        name,
        status: "pending",
        activatesAt: new Date(now.getTime() + this.waitingPeriodSeconds * 1000),
        approvedBy: `device:${signer.id}`,
      });
      // Announced in the same transaction: the binding exists only if the payer hears of it.
      const ref = await this.announcements.announce(tx, payer.id, {
        kind: "device_pending",
        deviceId: pending.id,
        deviceName: pending.name,
        activatesAt: pending.activatesAt,
      });
      return { device: pending, announced: [ref] };
    });
    this.announcements.sendSoon(...announced);
    return device;
  }

  /**
   * A device bound on the card issuer's word (a recovery: the issuer checked the cardholder of one of the payer's
   * cards), in the caller's transaction. With a PIN proof as well it is active at once; without, it waits the
   * waiting period as `pending` and the payer's other devices are scheduled to be revoked when it takes effect.
   * Either way the other recoveries still waiting are canceled: another issuer check overrules them.
   */
  async bindRecovered(
    tx: Executor,
    payer: PayerRow,
    input: { publicKeyJwk: DeviceJwk; name: string; issuerId: string; pinProven: boolean },
  ): Promise<{ device: DeviceRow; canceled: DeviceRow[] }> {
    const thumbprint = await deviceKeyThumbprint(input.publicKeyJwk);
    const existing = await lockDevicesOf(tx, payer.id);
    if (await findByThumbprint(tx, thumbprint))
      throw new ApiError("device_already_bound", "This device key is already bound.");
    const now = this.clock.now();
    const canceled: DeviceRow[] = [];
    for (const other of existing) {
      if (other.approvedBy.startsWith("issuer:") && effectiveStatus(other, now) === "pending") {
        const ended = await this.#end(tx, payer.id, other, "canceled", { reason: "overruled by another issuer check" });
        if (ended) canceled.push(ended);
      }
    }
    this.#assertRoom(
      existing.filter((d) => !canceled.some((c) => c.id === d.id)),
      now,
    );
    const device = await this.#insertBinding(tx, payer, {
      thumbprint,
      publicKeyJwk: input.publicKeyJwk,
      name: deviceName(input.name),
      status: input.pinProven ? "active" : "pending",
      activatesAt: input.pinProven ? now : new Date(now.getTime() + this.waitingPeriodSeconds * 1000),
      approvedBy: `issuer:${input.issuerId}${input.pinProven ? "+pin" : ""}`,
    });
    if (!input.pinProven) {
      const scheduled = await scheduleRevocationOfOthers(tx, device);
      await this.audit.append(tx, {
        actor: `payer:${payer.id}`,
        action: "device.revocations_scheduled",
        target: device.id,
        data: { devices: scheduled, at: device.activatesAt.toISOString() },
      });
    }
    return { device, canceled };
  }

  /** Revokes every live device of the payer but `keep`, in the caller's transaction (a recovery with the PIN). */
  async revokeAllBut(tx: Executor, payer: PayerRow, keep: string): Promise<DeviceRow[]> {
    const now = this.clock.now();
    const revoked: DeviceRow[] = [];
    for (const device of await lockDevicesOf(tx, payer.id)) {
      if (device.id === keep || !["active", "pending"].includes(device.status)) continue;
      const ended = await this.#end(
        tx,
        payer.id,
        device,
        device.status === "pending" && effectiveStatus(device, now) === "pending" ? "canceled" : "revoked",
        { reason: `recovery by ${keep}` },
      );
      if (ended) revoked.push(ended);
    }
    return revoked;
  }

  /** Sends what each ended device's revocation owes after its transaction committed (the unbinds at the issuers). */
  async afterRevocations(ended: DeviceRow[]): Promise<void> {
    // The revocation stands whatever happens next; what is not acknowledged now is retried by the reconciler.
    for (const device of ended)
      for (const step of this.#revocationSteps) await step.afterCommit(device).catch(() => {});
  }

  async #insertBinding(
    tx: Executor,
    payer: PayerRow,
    b: {
      thumbprint: string;
      publicKeyJwk: DeviceJwk;
      name: string;
      status: DeviceRow["status"];
      activatesAt: Date;
      approvedBy: string;
    },
  ): Promise<DeviceRow> {
    const device = await insertDevice(tx, {
      id: newId("device", this.clock.now().getTime()),
      payerId: payer.id,
      keyThumbprint: b.thumbprint,
      publicKeyJwk: b.publicKeyJwk,
      name: b.name,
      status: b.status,
      activatesAt: b.activatesAt,
      approvedBy: b.approvedBy,
      createdAt: this.clock.now(),
    });
    await this.audit.append(tx, {
      actor: `payer:${payer.id}`,
      action: b.status === "active" ? "device.bound" : "device.binding_requested",
      target: device.id,
      data: { approvedBy: b.approvedBy, activatesAt: b.activatesAt.toISOString() },
    });
    return device;
  }

  #assertRoom(existing: DeviceRow[], now: Date): void {
    if (existing.filter((d) => ["active", "pending"].includes(effectiveStatus(d, now))).length >= MAX_DEVICES) {
      throw new ApiError("device_limit_reached", `A payer can bind at most ${MAX_DEVICES} devices; revoke one first.`);
    }
  }

  // --- what the payer sees ---

  async list(payer: PayerRow): Promise<DeviceRow[]> {
    const now = this.clock.now();
    return (await devicesOf(this.db, payer.id)).map((d) => ({ ...d, status: effectiveStatus(d, now) }));
  }

  /** Bindings still in their waiting period, with the time each would become able to pay. */
  async pending(payer: PayerRow): Promise<DeviceRow[]> {
    return (await this.list(payer)).filter((d) => d.status === "pending");
  }

  // --- ending a device ---

  /**
   * Revokes a device at once: every later approval it signs is refused, its shares are forgotten, the issuers are
   * told, and the bindings still waiting that it approved are canceled with it. Allowed on the device's own word
   * (`{ purpose: "revoke-device", payerId, deviceId, nonce }` signed by itself), or on another active device's word
   * together with a PIN proof for `revoke-device:<deviceId>`: a stolen phone cannot throw the payer's other devices
   * out. A binding still waiting is canceled instead (cancelPending's rules).
   */
  async revoke(
    payer: PayerRow,
    deviceId: string,
    input: { signature?: string | undefined; pin?: PinProof | undefined },
  ): Promise<DeviceRow> {
    const target = await findDevice(this.db, deviceId);
    if (!target || target.payerId !== payer.id) throw new ApiError("resource_missing", "No such device.", "id");
    const status = effectiveStatus(target, this.clock.now());
    if (status === "pending") return this.cancelPending(payer, deviceId, input);
    if (status !== "active") throw new ApiError("device_not_active", `The device is already ${status}.`);
    if (!input.signature)
      throw new ApiError(
        "device_approval_required",
        "Revoking a device must be signed by it, or by another of your active devices with the PIN.",
        "signature",
      );
    const bySelf = signerOf(input.signature) === target.keyThumbprint;
    if (!bySelf) await this.#provePin(payer, input.pin, `revoke-device:${deviceId}`);
    return this.#endNow(payer, deviceId, "revoked", async (tx, device) => {
      if (effectiveStatus(device, this.clock.now()) !== "active")
        throw new ApiError("device_not_active", `The device is already ${effectiveStatus(device, this.clock.now())}.`);
      const signer = await this.verifyStatement(
        payer,
        input.signature!,
        { purpose: "revoke-device", payerId: payer.id, deviceId },
        { tx, ...(bySelf ? { signer: device } : {}), param: "signature" },
      );
      return { by: signer.id, pin: !bySelf };
    });
  }

  /**
   * Cancels a binding still in its waiting period (a new device, or a recovery): with a PIN proof for
   * `cancel-device:<deviceId>` (from any of the payer's sessions: the payer's new phone may hold nothing else yet),
   * or on the pending device's own word (it withdraws). Another device's word alone cancels nothing: a stolen phone
   * must not be able to stop the payer's recovery.
   */
  async cancelPending(
    payer: PayerRow,
    deviceId: string,
    input: { signature?: string | undefined; pin?: PinProof | undefined },
  ): Promise<DeviceRow> {
    const target = await findDevice(this.db, deviceId);
    if (!target || target.payerId !== payer.id) throw new ApiError("resource_missing", "No such device.", "id");
    const withdraws = input.signature !== undefined && signerOf(input.signature) === target.keyThumbprint;
    if (!withdraws) await this.#provePin(payer, input.pin, `cancel-device:${deviceId}`);
    return this.#endNow(payer, deviceId, "canceled", async (tx, device) => {
      if (effectiveStatus(device, this.clock.now()) !== "pending")
        throw new ApiError(
          "device_not_active",
          "Only a binding still in its waiting period can be canceled; revoke an active device instead.",
        );
      if (withdraws)
        await this.verifyStatement(
          payer,
          input.signature!,
          { purpose: "cancel-device", payerId: payer.id, deviceId },
          { tx, signer: device, rule: "live", param: "signature" },
        );
      return { by: withdraws ? device.id : "pin", pin: !withdraws };
    });
  }

  /** Ends one device in a transaction after `authorize` (which may throw) and runs the revocation's steps. */
  async #endNow(
    payer: PayerRow,
    deviceId: string,
    status: "revoked" | "canceled",
    authorize: (tx: Executor, device: DeviceRow) => Promise<{ by: string; pin: boolean }>,
  ): Promise<DeviceRow> {
    const { ended, announced } = await this.db.transaction(async (tx) => {
      const device = (await lockDevicesOf(tx, payer.id)).find((d) => d.id === deviceId);
      if (!device) throw new ApiError("resource_missing", "No such device.", "id");
      const how = await authorize(tx, device);
      const row = await this.#end(tx, payer.id, device, status, how);
      if (!row) throw new ApiError("device_not_active", `The device is already ${device.status}.`);
      return { ended: row, announced: [await this.announceEnded(tx, row)] };
    });
    this.announcements.sendSoon(...announced);
    await this.afterRevocations([ended]);
    return ended;
  }

  /** Tells the payer a device is gone: a revoked one, or a pending binding or recovery canceled. */
  announceEnded(tx: Executor, device: DeviceRow): Promise<AnnouncementRef> {
    if (device.status === "revoked")
      return this.announcements.announce(tx, device.payerId, {
        kind: "device_revoked",
        deviceId: device.id,
        deviceName: device.name,
      });
    return this.announcements.announce(tx, device.payerId, {
      kind: "change_canceled",
      changeId: device.id,
      change: device.approvedBy.startsWith("issuer:") ? "recovery" : "device",
    });
  }

  /** Ends a device in `tx`: the bindings it approved go with it, and every revocation step runs. */
  async #end(
    tx: Executor,
    payerId: string,
    device: DeviceRow,
    status: "revoked" | "canceled",
    data: Record<string, unknown>,
  ): Promise<DeviceRow | null> {
    const now = this.clock.now();
    const ended = await endDevice(tx, device.id, status, ["active", "pending"], now);
    if (!ended) return null;
    const canceled = await cancelApprovedBy(tx, payerId, device.id, now);
    // A canceled binding may already hold cards (a recovery enrolls one while it waits): they go as on revocation.
    for (const step of this.#revocationSteps) await step.inTransaction(tx, ended);
    await this.audit.append(tx, {
      actor: `payer:${payerId}`,
      action: status === "revoked" ? "device.revoked" : "device.binding_canceled",
      target: device.id,
      data: { ...data, canceledBindings: canceled },
    });
    return ended;
  }

  /**
   * The maintenance task: revocations scheduled by a recovery that has taken effect are made real (the devices
   * already count as revoked; now their shares go and the issuers are told). Returns how many devices it ended.
   */
  async applyDueRevocations(limit = 50): Promise<number> {
    let count = 0;
    for (const payerId of await payersWithDueRevocations(this.db, this.clock.now(), limit)) {
      const { ended, announced } = await this.db.transaction(async (tx) => {
        const now = this.clock.now();
        const devices = await lockDevicesOf(tx, payerId);
        const done: DeviceRow[] = [];
        const byRecovery = new Map<string, number>();
        for (const device of devices) {
          if (device.revokeAt === null || device.revokeAt > now || !["active", "pending"].includes(device.status))
            continue;
          const recovery = device.revokeScheduledBy;
          const row = await this.#end(tx, payerId, device, "revoked", { reason: "recovery took effect", recovery });
          if (!row) continue;
          done.push(row);
          if (recovery) byRecovery.set(recovery, (byRecovery.get(recovery) ?? 0) + 1);
        }
        const refs: AnnouncementRef[] = [];
        for (const [recoveryId, revokedDevices] of byRecovery) {
          const deviceName = devices.find((d) => d.id === recoveryId)?.name ?? "";
          refs.push(
            await this.announcements.announce(tx, payerId, {
              kind: "recovery_completed",
              recoveryId,
              deviceName,
              revokedDevices,
            }),
          );
        }
        return { ended: done, announced: refs };
      });
      this.announcements.sendSoon(...announced);
      await this.afterRevocations(ended);
      count += ended.length;
    }
    return count;
  }

  purgeStatementNonces(): Promise<number> {
    return purgeStatementNonces(this.db, this.clock.now());
  }

  // --- lookups for other contexts ---

  /** True while the device (by id) may act for the payer: bound, not revoked, past any waiting period. */
  async isActive(payerId: string, deviceId: string, db: Executor = this.db): Promise<boolean> {
    return (await this.activeDeviceById(payerId, deviceId, db)) !== null;
  }

  /** The payer's device by id, while it may act (bound, not revoked, past any waiting period). */
  async activeDeviceById(payerId: string, deviceId: string, db: Executor = this.db): Promise<DeviceRow | null> {
    const device = await findDevice(db, deviceId);
    return device !== null && device.payerId === payerId && effectiveStatus(device, this.clock.now()) === "active"
      ? device
      : null;
  }

  /** The payer's device by id while it is bound or waiting to be (not revoked, not canceled). */
  async liveDeviceById(payerId: string, deviceId: string, db: Executor = this.db): Promise<DeviceRow | null> {
    const device = await findDevice(db, deviceId);
    return device !== null &&
      device.payerId === payerId &&
      ["active", "pending"].includes(effectiveStatus(device, this.clock.now()))
      ? device
      : null;
  }

  /** The payer's device that may sign now (active, not revoked), by key thumbprint; null otherwise. */
  async activeDevice(payerId: string, thumbprint: string): Promise<DeviceRow | null> {
    const device = await findByThumbprint(this.db, thumbprint);
    if (!device || device.payerId !== payerId || effectiveStatus(device, this.clock.now()) !== "active") return null;
    return device;
  }
}

function deviceName(raw: string): string {
  const name = raw.trim();
  if (!name || name.length > 60 || /[<>\p{Cc}]/u.test(name))
    throw new ApiError("parameter_invalid", "name must be 1 to 60 characters of plain text.", "name");
  return name;
}
