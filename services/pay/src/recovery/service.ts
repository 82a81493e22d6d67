/**
 * What a payer does when a device or the PIN is lost, under the power order (DESIGN.md "Authentication without
 * plugins"; issue 7). The issuer's cardholder check (the card: PAN, expiry and CVC encrypted to the issuer, plus
 * the issuer's one-time code) and the PIN proof stand above a device's word:
 *
 * - **Recovery** (a new device): the issuer's check and a PIN proof take effect at once and may revoke every other
 *   device (the payer cuts a thief off); the check alone waits the waiting period, announced, then revokes the
 *   others — and only a PIN proof (`cancel-device`) or another issuer check (a newer recovery) cancels it.
 * - **PIN reset** (forgotten or locked PIN): asked from an active device, with the issuer's check, then waits the
 *   waiting period, announced; a PIN proof from any of the payer's sessions cancels it. A stolen phone alone
 *   (device key and messenger session, no card) can therefore neither reset the PIN nor stop the payer's recovery.
 *
 * Orchestration only: the rules of each piece stay in its context (devices, pin, vault).
 */
import { JOSE_TYPES, type PendingChangeView } from "@mpay/protocol";
import type { Db } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { AuditService } from "../audit/service.ts";
import type { AnnouncementRef, AnnouncementService } from "../announcements/service.ts";
import type { DeviceRow, DeviceService, PinProof } from "../devices/service.ts";
import { deviceKeyThumbprint, type DeviceJwk } from "../devices/signatures.ts";
import type { PayerRow } from "../payers/service.ts";
import { recordHash, type PinResetRow, type PinService } from "../pin/service.ts";
import { checkJweHeader } from "../vault/jwe-header.ts";
import { enrollmentHash, type CardRow, type VaultService } from "../vault/service.ts";

export interface RecoveryStarted {
  id: string;
  codeSentTo: string;
  expiresAt: Date;
}

export interface RecoveryOutcome {
  device: DeviceRow;
  card: CardRow;
  /** Devices ended by this recovery now (with the PIN and `revokeOtherDevices`), and recoveries it overruled. */
  ended: DeviceRow[];
}

export class RecoveryService {
  constructor(
    private readonly db: Db,
    private readonly devices: DeviceService,
    private readonly pins: PinService,
    private readonly vault: VaultService,
    private readonly audit: AuditService,
    private readonly announcements: AnnouncementService,
  ) {}

  // --- a new device ---

  /** Step 1: with the messenger session alone, a new device proves one of the payer's cards at its issuer. */
  async startDeviceRecovery(
    payer: PayerRow,
    input: { issuerId: string; enrollment: string; publicKeyJwk: DeviceJwk; name: string },
    clientIp: string,
  ): Promise<RecoveryStarted> {
    await deviceKeyThumbprint(input.publicKeyJwk);
    const name = input.name.trim();
    if (!name || name.length > 60 || /[<>\p{Cc}]/u.test(name))
      throw new ApiError("parameter_invalid", "name must be 1 to 60 characters of plain text.", "name");
    const check = await this.vault.startCardholderCheck(
      payer,
      {
        issuerId: input.issuerId,
        enrollment: input.enrollment,
        purpose: "recovery",
        deviceId: null,
        recoveryDevice: { publicKeyJwk: input.publicKeyJwk, name },
      },
      clientIp,
    );
    await this.audit.record({
      actor: `payer:${payer.id}`,
      action: "device.recovery_started",
      target: check.id,
      data: { issuerId: input.issuerId },
    });
    return { id: check.id, codeSentTo: check.codeSentTo, expiresAt: check.expiresAt };
  }

  /**
   * Step 2: the issuer's code, and optionally a PIN proof for `recovery:<id>`. With the PIN the new device is active
   * at once and, with `revokeOtherDevices`, every other device is revoked now (and unbound at the issuers); without
   * it the device waits and the others are revoked when it takes effect. The card is enrolled on the new device.
   */
  async verifyDeviceRecovery(
    payer: PayerRow,
    recoveryId: string,
    input: { code: string; pin?: PinProof | undefined; revokeOtherDevices?: boolean | undefined },
  ): Promise<RecoveryOutcome> {
    const pending = await this.vault.cardholderCheck(payer, recoveryId, "recovery");
    if (!pending.recoveryDevice) throw new ApiError("resource_missing", "No such recovery.", "id");
    const { publicKeyJwk, name } = pending.recoveryDevice;
    // A proof of the PIN as it was before a recent change counts too, and restores it (issue 7, drill b).
    const proved = input.pin ? await this.pins.prove(payer, input.pin, `recovery:${recoveryId}`) : null;
    const { check, enrolled } = await this.vault.finishCardholderCheck(
      payer,
      recoveryId,
      input.code,
      "recovery",
      await deviceKeyThumbprint(publicKeyJwk),
    );
    const pinProven = input.pin !== undefined;
    const outcome = await this.db.transaction(async (tx) => {
      const { device, canceled } = await this.devices.bindRecovered(tx, payer, {
        publicKeyJwk,
        name,
        issuerId: check.issuerId,
        pinProven,
      });
      const card = await this.vault.recordRecoveredCard(tx, payer, device.id, check, enrolled);
      const revoked =
        pinProven && input.revokeOtherDevices ? await this.devices.revokeAllBut(tx, payer, device.id) : [];
      if (proved?.againstPrevious) await this.pins.restorePrevious(tx, payer);
      await this.audit.append(tx, {
        actor: `payer:${payer.id}`,
        action: "device.recovery_verified",
        target: device.id,
        data: {
          issuerId: check.issuerId,
          card: card.id,
          pin: pinProven,
          activatesAt: device.activatesAt.toISOString(),
          revoked: revoked.map((d) => d.id),
          overruled: canceled.map((d) => d.id),
        },
      });
      // Announced in the same transaction: a recovery exists only if the payer hears of it.
      const announced: AnnouncementRef[] = [];
      for (const overruled of canceled) announced.push(await this.devices.announceEnded(tx, overruled));
      announced.push(
        await this.announcements.announce(
          tx,
          payer.id,
          pinProven
            ? {
                kind: "recovery_completed",
                recoveryId: device.id,
                deviceName: device.name,
                revokedDevices: revoked.length,
              }
            : {
                kind: "recovery_pending",
                recoveryId: device.id,
                deviceName: device.name,
                activatesAt: device.activatesAt,
              },
        ),
      );
      return { device, card, ended: [...canceled, ...revoked], announced };
    });
    this.announcements.sendSoon(...outcome.announced);
    await this.devices.afterRevocations(outcome.ended);
    return outcome;
  }

  // --- a forgotten PIN ---

  /**
   * Step 1 of a PIN reset, from an active device: `{ purpose: "reset-pin", payerId, issuerId, recordHash,
   * enrollmentHash, nonce }` signed by it names the new OPAQUE record and the card check's JWE; the issuer texts a
   * code to the phone on file of the card proved.
   */
  async startPinReset(
    payer: PayerRow,
    input: { issuerId: string; enrollment: string; registrationRecord: string; deviceSignature: string },
    clientIp: string,
  ): Promise<{ reset: PinResetRow; codeSentTo: string; expiresAt: Date }> {
    checkJweHeader(input.enrollment, JOSE_TYPES.enrollment);
    const device = await this.devices.verifyStatement(
      payer,
      input.deviceSignature,
      {
        purpose: "reset-pin",
        payerId: payer.id,
        issuerId: input.issuerId,
        recordHash: recordHash(input.registrationRecord),
        enrollmentHash: enrollmentHash(input.enrollment),
      },
      { param: "deviceSignature" },
    );
    if ((await this.pins.status(payer)).set === false)
      throw new ApiError("pin_not_set", "No PIN is set; set one instead.");
    const check = await this.vault.startCardholderCheck(
      payer,
      { issuerId: input.issuerId, enrollment: input.enrollment, purpose: "pin-reset", deviceId: device.id },
      clientIp,
    );
    const reset = await this.pins.openReset(payer, {
      registrationRecord: input.registrationRecord,
      requestedBy: `device:${device.id}`,
      cardholderCheckId: check.id,
    });
    return { reset, codeSentTo: check.codeSentTo, expiresAt: check.expiresAt };
  }

  /** Step 2: the issuer's code. The reset then waits the waiting period, announced, cancellable with a PIN proof. */
  async verifyPinReset(payer: PayerRow, resetId: string, code: string): Promise<PinResetRow> {
    const reset = await this.pins.reset(payer, resetId);
    if (reset.status !== "verification_required" || !reset.cardholderCheckId)
      throw new ApiError("pin_reset_invalid", "This PIN reset is not waiting for a card check.");
    const requester = await this.devices.activeDeviceById(payer.id, reset.requestedBy.replace(/^device:/, ""));
    if (!requester)
      throw new ApiError("device_not_active", "The device that asked for this reset is no longer active.");
    let check;
    try {
      ({ check } = await this.vault.finishCardholderCheck(
        payer,
        reset.cardholderCheckId,
        code,
        "pin-reset",
        requester.keyThumbprint,
      ));
    } catch (error) {
      if (error instanceof ApiError && error.code === "recovery_not_possible") await this.pins.abandonReset(resetId);
      throw error;
    }
    const { reset: confirmed, announced } = await this.db.transaction(async (tx) => {
      await this.vault.endCardholderCheck(tx, check.id);
      return this.pins.confirmReset(tx, payer, resetId);
    });
    this.announcements.sendSoon(announced);
    return confirmed;
  }

  // --- what is waiting ---

  /** Every change that waits to take effect for the payer: new devices, recoveries, a PIN reset. */
  async pendingChanges(payer: PayerRow): Promise<PendingChangeView[]> {
    const devices = await this.devices.list(payer);
    const changes: PendingChangeView[] = devices
      .filter((d) => d.status === "pending")
      .map((d) => ({
        id: d.id,
        object: "pending_change" as const,
        kind: d.approvedBy.startsWith("issuer:") ? ("recovery" as const) : ("device" as const),
        activatesAt: d.activatesAt.toISOString(),
        deviceId: d.id,
        deviceName: d.name,
        requestedBy: d.approvedBy,
        revokesOtherDevices: d.approvedBy.startsWith("issuer:"),
        createdAt: d.createdAt.toISOString(),
      }));
    const reset = await this.pins.pendingReset(payer);
    if (reset) {
      const requester = devices.find((d) => `device:${d.id}` === reset.requestedBy);
      changes.push({
        id: reset.id,
        object: "pending_change",
        kind: "pin_reset",
        activatesAt: reset.activatesAt.toISOString(),
        deviceId: requester?.id ?? "",
        deviceName: requester?.name ?? "",
        requestedBy: reset.requestedBy,
        revokesOtherDevices: false,
        createdAt: reset.createdAt.toISOString(),
      });
    }
    return changes.sort((a, b) => a.activatesAt.localeCompare(b.activatesAt));
  }

  /** Cancels a pending change with a PIN proof for its purpose (`cancel-device:<id>` or `cancel-pin-reset:<id>`). */
  async cancelPendingChange(payer: PayerRow, id: string, pin: PinProof): Promise<void> {
    const change = (await this.pendingChanges(payer)).find((c) => c.id === id);
    if (!change) throw new ApiError("resource_missing", "No such pending change.", "id");
    if (change.kind === "pin_reset") await this.pins.cancelReset(payer, id, pin);
    else await this.devices.cancelPending(payer, id, { pin });
  }
}
