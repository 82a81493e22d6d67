/**
 * The card vault (DESIGN.md "Split custody"; issue 4, deliverables 3 and 6). The pay server's half of split
 * custody: it relays the wallet's enrollment JWE to the issuer (it cannot open it), records the enrolled card's
 * display facts, and keeps what the wallet uploads — the card and personal records sealed under the DEK, and K_srv,
 * which it wraps at once with the vault KEK (AAD = payer, card, device, KEK version). It never holds K_dev, the
 * DEK or a PAN. It hands K_srv and the sealed records back only to the card's own device, only after fresh user
 * verification for one payment, and only encrypted to a key that device made for that payment (release.ts).
 *
 * Pipeline of each operation: validate → load → check the device's word → call out (issuer) → persist → audit.
 */
import { JOSE_TYPES, newId, type CardView, type EcPublicJwk, type EnrolledCard } from "@mpay/protocol";
import { base64url } from "jose";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { AuditService } from "../audit/service.ts";
import type { AnnouncementService } from "../announcements/service.ts";
import type { DeviceRow, DeviceService } from "../devices/service.ts";
import type { Clock } from "@mpay/service-kit";
import { createHash } from "node:crypto";
import { type DeviceJwk } from "../devices/signatures.ts";
import type { KeyProvider } from "../keys/provider.ts";
import type { PayerRow } from "../payers/service.ts";
import type { IssuerService } from "../issuers/service.ts";
import type { EnrollmentLimiter } from "./enrollment-limits.ts";
import { checkJweHeader } from "./jwe-header.ts";
import { kSrvAad } from "./aad.ts";
import { encryptRelease } from "./release.ts";
import {
  acknowledgeUnbind,
  cardsEverOf,
  cardsOf,
  dueUnbinds,
  endEnrollment,
  findCard,
  findEnrollment,
  forgetDeviceCards,
  issuersBoundTo,
  insertCard,
  insertEnrollment,
  lockCard,
  lockCardForRelease,
  postponeUnbind,
  queueUnbinds,
  unbindsOf,
  updateCard,
  type CardRow,
  type EnrollmentRow,
} from "./store.ts";

/** The row other contexts see; they import it from here, never from the store. */
export type { CardRow } from "./store.ts";

const SHARE_BYTES = 32;
/** A sealed record is small JSON; anything bigger is not one of ours. */
const MAX_SEALED_RECORD = 8192;

export interface StoreRecordsInput {
  sealedCard: string;
  sealedProfile?: string | undefined;
  recordVersion: number;
  /** base64url of the 32-byte server share. */
  kSrv: string;
  /** `{ purpose: "store-card-records", payerId, cardId, recordVersion }` signed by the card's device. */
  deviceSignature: string;
}

export class VaultService {
  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    private readonly devices: DeviceService,
    private readonly issuers: IssuerService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly announcements: AnnouncementService,
    private readonly enrollmentLimits: EnrollmentLimiter,
  ) {}

  /** Step 1: the wallet's enrollment JWE goes to the issuer, which sends the cardholder a one-time code. */
  async startEnrollment(
    payer: PayerRow,
    input: { issuerId: string; enrollment: string; deviceSignature: string },
    clientIp: string,
  ): Promise<EnrollmentRow & { codeSentTo: string }> {
    checkJweHeader(input.enrollment, JOSE_TYPES.enrollment);
    // The statement names the JWE it travels with (its SHA-256), so nobody swaps the card data on the way (issue 7).
    const device = await this.devices.verifyStatement(
      payer,
      input.deviceSignature,
      {
        purpose: "enroll-card",
        payerId: payer.id,
        issuerId: input.issuerId,
        enrollmentHash: enrollmentHash(input.enrollment),
      },
      { param: "deviceSignature" },
    );
    // The try is claimed before the issuer is asked, and stays counted whatever the issuer answers: card testing
    // is nearly all refusals (e2e/breach-stolen-card, e2e/breach-enrollment-race).
    await this.#withinEnrollmentLimits(payer, clientIp, input.issuerId);
    const started = await this.issuers.call((c) =>
      c.enroll(input.issuerId, { enrollment: input.enrollment, payerRef: payer.id }),
    );
    const row = await insertEnrollment(this.db, {
      id: newId("cardEnrollment"),
      payerId: payer.id,
      deviceId: device.id,
      issuerId: input.issuerId,
      issuerEnrollmentId: started.enrollmentId,
      status: "verification_required",
      clientIp,
      expiresAt: started.expiresAt,
    });
    await this.audit.record({
      actor: `payer:${payer.id}`,
      action: "card.enrollment_started",
      target: row.id,
      data: { issuerId: input.issuerId, device: device.id },
    });
    return Object.assign(row, { codeSentTo: started.codeSentTo });
  }

  /** Step 2: the one-time code; the issuer binds the device key and names the card. */
  async verifyEnrollment(payer: PayerRow, enrollmentId: string, code: string): Promise<CardRow> {
    const enrollment = await findEnrollment(this.db, enrollmentId, payer.id);
    if (!enrollment) throw new ApiError("resource_missing", "No such card enrollment.", "id");
    if (enrollment.status !== "verification_required")
      throw new ApiError("card_enrollment_expired", "This enrollment is already finished; start again.");
    if (enrollment.expiresAt.getTime() <= this.clock.now().getTime())
      throw new ApiError("card_enrollment_expired", "The enrollment expired; start again.");
    if (enrollment.purpose !== "enroll" || !enrollment.deviceId)
      throw new ApiError("resource_missing", "No such card enrollment.", "id");
    const device = await this.devices.activeDeviceById(payer.id, enrollment.deviceId);
    if (!device)
      throw new ApiError("device_not_active", "The device that started this enrollment is no longer active.");
    const enrolled = await this.issuers.call((c) =>
      c.verifyEnrollment(enrollment.issuerId, enrollment.issuerEnrollmentId, code),
    );
    if (enrolled.deviceKid !== device.keyThumbprint) {
      // The issuer bound another key than the device that asked: never record a card the device cannot use.
      throw new ApiError("card_enrollment_refused", "The card issuer bound another device key than this device's.");
    }
    const { card, announced } = await this.db.transaction(async (tx) => {
      const row = await this.#recordEnrolledCard(tx, payer, device.id, enrollment, enrolled);
      await this.audit.append(tx, {
        actor: `payer:${payer.id}`,
        action: "card.enrolled",
        target: row.id,
        data: { issuerId: row.issuerId, device: device.id, last4: row.last4 },
      });
      const ref = await this.announcements.announce(tx, payer.id, {
        kind: "card_enrolled",
        cardId: row.id,
        brand: row.brand as CardView["brand"],
        last4: row.last4,
        deviceName: device.name,
      });
      return { card: row, announced: ref };
    });
    this.announcements.sendSoon(announced);
    return card;
  }

  /** The card the issuer enrolled, waiting for its records, and the enrollment ended (once: a second finish fails). */
  async #recordEnrolledCard(
    tx: Executor,
    payer: PayerRow,
    deviceId: string,
    enrollment: EnrollmentRow,
    enrolled: EnrolledCard,
  ): Promise<CardRow> {
    const card = await insertCard(tx, {
      id: newId("card"),
      payerId: payer.id,
      deviceId,
      issuerId: enrollment.issuerId,
      cardRef: enrolled.cardRef,
      brand: enrolled.brand,
      last4: enrolled.last4,
      expiryMonth: enrolled.expiryMonth,
      status: "awaiting_records",
    });
    if (!(await endEnrollment(tx, enrollment.id, "verified", card.id)))
      throw new ApiError("card_enrollment_expired", "This enrollment is already finished; start again.");
    return card;
  }

  /**
   * Step 3: the records the wallet sealed and the server share. K_srv is wrapped by the KEK before anything is
   * stored, and its bytes wiped. A later upload replaces the records only with a higher version (the device's
   * re-seal), never rolls them back.
   */
  async storeRecords(payer: PayerRow, cardId: string, input: StoreRecordsInput): Promise<CardRow> {
    const kSrv = decodeShare(input.kSrv);
    try {
      for (const [name, value] of [
        ["sealedCard", input.sealedCard],
        ["sealedProfile", input.sealedProfile],
      ] as const) {
        if (
          value !== undefined &&
          (value.length > MAX_SEALED_RECORD || !/^r1\.\d{1,9}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value))
        ) {
          throw new ApiError("card_records_invalid", `${name} is not a sealed record.`, name);
        }
      }
      const card = await findCard(this.db, cardId, payer.id);
      if (!card || card.status === "removed") throw new ApiError("resource_missing", "No such card.", "id");
      // A device still in its waiting period may store its card (a recovery); it cannot pay with it until active.
      const device = await this.devices.liveDeviceById(payer.id, card.deviceId);
      if (!device)
        throw new ApiError(
          "device_signature_invalid",
          "The records must be signed by the device the card was enrolled on.",
        );
      await this.devices.verifyStatement(
        payer,
        input.deviceSignature,
        { purpose: "store-card-records", payerId: payer.id, cardId, recordVersion: String(input.recordVersion) },
        { signer: device, rule: "live", param: "deviceSignature" },
      );
      const kekVersion = this.keys.currentKeyVersion();
      const wrappedKSrv = await this.keys.seal("vault-k-srv", kSrv, kSrvAad(card, kekVersion));
      return await this.db.transaction(async (tx) => {
        const locked = await lockCard(tx, cardId, payer.id);
        if (!locked || locked.status === "removed") throw new ApiError("resource_missing", "No such card.", "id");
        if (locked.recordVersion !== null && input.recordVersion <= locked.recordVersion) {
          throw new ApiError(
            "card_records_invalid",
            `recordVersion must be above ${locked.recordVersion}.`,
            "recordVersion",
          );
        }
        const updated = await updateCard(tx, cardId, {
          status: "active",
          sealedCard: input.sealedCard,
          sealedProfile: input.sealedProfile ?? null,
          recordVersion: input.recordVersion,
          wrappedKSrv,
          kekVersion,
        });
        await this.audit.append(tx, {
          actor: `payer:${payer.id}`,
          action: "card.records_stored",
          target: cardId,
          data: { recordVersion: input.recordVersion, kekVersion },
        });
        return updated;
      });
    } finally {
      kSrv.fill(0);
    }
  }

  /**
   * The issuer's cardholder check, step 1 (DESIGN.md "the power order": the card, which a phone thief does not hold).
   * A device — the new one of a recovery (`recoveryDevice`, not bound yet) or a bound one asking for a PIN reset
   * (`deviceId`) — sends one of the payer's cards again, PAN, expiry, CVC and its own public key as a JWE to the
   * issuer, and the issuer texts a code to the phone on file. Only a card the payer has (or had) here passes, so
   * the check proves the same cardholder. The same limits as enrollment apply.
   */
  async startCardholderCheck(
    payer: PayerRow,
    input: {
      issuerId: string;
      enrollment: string;
      purpose: "recovery" | "pin-reset";
      deviceId: string | null;
      recoveryDevice?: { publicKeyJwk: DeviceJwk; name: string };
    },
    clientIp: string,
  ): Promise<EnrollmentRow & { codeSentTo: string }> {
    checkJweHeader(input.enrollment, JOSE_TYPES.enrollment);
    // Removed cards count: a payer who revoked every device (and so lost the cards on them) must still get back in.
    if (!(await cardsEverOf(this.db, payer.id)).some((c) => c.issuerId === input.issuerId)) {
      throw new ApiError("recovery_not_possible", "Prove a card you had enrolled before, at its issuer.", "issuerId");
    }
    await this.#withinEnrollmentLimits(payer, clientIp, input.issuerId);
    const started = await this.issuers.call((c) =>
      c.enroll(input.issuerId, { enrollment: input.enrollment, payerRef: payer.id }),
    );
    const row = await insertEnrollment(this.db, {
      id: newId("cardEnrollment", this.clock.now().getTime()),
      payerId: payer.id,
      deviceId: input.deviceId,
      purpose: input.purpose,
      recoveryDevice: input.recoveryDevice ?? null,
      issuerId: input.issuerId,
      issuerEnrollmentId: started.enrollmentId,
      status: "verification_required",
      clientIp,
      expiresAt: started.expiresAt,
    });
    await this.audit.record({
      actor: `payer:${payer.id}`,
      action: "card.cardholder_check_started",
      target: row.id,
      data: { issuerId: input.issuerId, purpose: input.purpose },
    });
    return Object.assign(row, { codeSentTo: started.codeSentTo });
  }

  /** A cardholder check of the payer's that still waits for its code. */
  async cardholderCheck(payer: PayerRow, checkId: string, purpose: "recovery" | "pin-reset"): Promise<EnrollmentRow> {
    const check = await findEnrollment(this.db, checkId, payer.id);
    if (!check || check.purpose !== purpose) throw new ApiError("resource_missing", "No such card check.", "id");
    if (check.status !== "verification_required" || check.expiresAt.getTime() <= this.clock.now().getTime()) {
      throw new ApiError("card_enrollment_expired", "This card check expired or is finished; start again.");
    }
    return check;
  }

  /**
   * The cardholder check, step 2: the code. The issuer binds `deviceKid` to the card and names it; it passes only
   * if that is one of the payer's card accounts here and the key the device sent. A check that fails is spent.
   */
  async finishCardholderCheck(
    payer: PayerRow,
    checkId: string,
    code: string,
    purpose: "recovery" | "pin-reset",
    deviceKid: string,
  ): Promise<{ check: EnrollmentRow; enrolled: EnrolledCard }> {
    const check = await this.cardholderCheck(payer, checkId, purpose);
    const enrolled = await this.issuers.call((c) => c.verifyEnrollment(check.issuerId, check.issuerEnrollmentId, code));
    const known = (await cardsEverOf(this.db, payer.id)).some(
      (c) => c.issuerId === check.issuerId && c.cardRef === enrolled.cardRef,
    );
    if (!known || enrolled.deviceKid !== deviceKid) {
      await endEnrollment(this.db, check.id, "failed", null);
      await this.audit.record({
        actor: `payer:${payer.id}`,
        action: "card.cardholder_check_refused",
        target: check.id,
        data: { issuerId: check.issuerId, purpose },
      });
      throw new ApiError(
        "recovery_not_possible",
        "The card the issuer verified is not one of yours here; use a card you had enrolled before.",
      );
    }
    return { check, enrolled };
  }

  /** A recovery's card, enrolled on the new device, and the check ended (in the recovery's transaction). */
  recordRecoveredCard(
    tx: Executor,
    payer: PayerRow,
    deviceId: string,
    check: EnrollmentRow,
    enrolled: EnrolledCard,
  ): Promise<CardRow> {
    return this.#recordEnrolledCard(tx, payer, deviceId, check, enrolled);
  }

  /** Ends a passed check that enrolls no card here (a PIN reset's), once. */
  async endCardholderCheck(tx: Executor, checkId: string): Promise<void> {
    if (!(await endEnrollment(tx, checkId, "verified", null)))
      throw new ApiError("card_enrollment_expired", "This card check is already finished; start again.");
  }

  list(payer: PayerRow): Promise<CardRow[]> {
    return cardsOf(this.db, payer.id);
  }

  /** Every card the payer ever enrolled, removed ones included: a receipt names the card it was paid with. */
  everEnrolled(payer: PayerRow): Promise<CardRow[]> {
    return cardsEverOf(this.db, payer.id);
  }

  /** A card the payer enrolled, removed or not (a receipt names the card it was paid with); null if not theirs. */
  async enrolledCard(db: Executor, payerId: string, cardId: string): Promise<CardRow | null> {
    return findCard(db, cardId, payerId);
  }

  async get(payer: PayerRow, cardId: string): Promise<CardRow> {
    const card = await findCard(this.db, cardId, payer.id);
    if (!card || card.status === "removed") throw new ApiError("resource_missing", "No such card.", "id");
    return card;
  }

  /** The card a challenge may name: active, this payer's, enrolled on the approving device. */
  async cardForApproval(payer: PayerRow, cardId: string, device: DeviceRow): Promise<CardRow> {
    const card = await this.get(payer, cardId);
    if (card.status !== "active" || !card.wrappedKSrv)
      throw new ApiError("card_not_active", "This card's enrollment is not finished.", "cardId");
    if (card.deviceId !== device.id)
      throw new ApiError(
        "card_not_active",
        "This card was enrolled on another device; pay with that device or enroll the card here.",
        "cardId",
      );
    return card;
  }

  /** The card a spent challenge named, re-read in the approval's transaction (it may have been removed since). */
  async cardOfChallenge(tx: Executor, payer: PayerRow, cardId: string | null, device: DeviceRow): Promise<CardRow> {
    const card = cardId === null ? null : await lockCardForRelease(tx, cardId, payer.id);
    if (!card || card.status !== "active" || card.deviceId !== device.id)
      throw new ApiError("card_not_active", "The card of this challenge can no longer be used.", "cardId");
    return card;
  }

  /**
   * Releases the card to its device for one approved payment, in the approval's transaction (the caller has
   * verified the payer): K_srv is opened, encrypted with the sealed records to the device's one-time key and wiped,
   * and the key use is audited — last, because the audit chain's append lock serialises every audited transaction
   * until it commits, so it is taken after the slow part (the JWE), not before it (the pay benchmark found approvals
   * queueing on it).
   */
  async release(tx: Executor, card: CardRow, releaseKey: EcPublicJwk): Promise<string> {
    if (
      card.status !== "active" ||
      !card.wrappedKSrv ||
      card.kekVersion === null ||
      card.recordVersion === null ||
      !card.sealedCard
    ) {
      throw new ApiError("card_not_active", "This card cannot be used.", "cardId");
    }
    const kSrv = await this.keys.open("vault-k-srv", card.wrappedKSrv, kSrvAad(card, card.kekVersion));
    const release = await encryptRelease(
      card.id,
      { kSrv, sealedCard: card.sealedCard, sealedProfile: card.sealedProfile, recordVersion: card.recordVersion },
      releaseKey,
    );
    await this.audit.append(tx, {
      actor: `payer:${card.payerId}`,
      action: "card.share_released",
      target: card.id,
      data: { device: card.deviceId },
    });
    return release;
  }

  /**
   * The payer removes a card, on the word of an active device (`{ purpose: "remove-card", payerId, cardId }`): a
   * messenger session alone cannot erase a payer's cards. Its server share and records are deleted here; the
   * device stays bound at the issuer for the payer's other cards there (revoking the device unbinds it).
   */
  async remove(payer: PayerRow, cardId: string, deviceSignature: string): Promise<CardRow> {
    await this.devices.verifyStatement(
      payer,
      deviceSignature,
      { purpose: "remove-card", payerId: payer.id, cardId },
      { param: "deviceSignature" },
    );
    const card = await this.db.transaction(async (tx) => {
      const locked = await lockCard(tx, cardId, payer.id);
      if (!locked || locked.status === "removed") throw new ApiError("resource_missing", "No such card.", "id");
      const removed = await updateCard(tx, cardId, {
        status: "removed",
        wrappedKSrv: null,
        kekVersion: null,
        sealedCard: null,
        sealedProfile: null,
        removedAt: this.clock.now(),
      });
      await this.audit.append(tx, { actor: `payer:${payer.id}`, action: "card.removed", target: cardId, data: {} });
      return removed;
    });
    return card;
  }

  /**
   * Part of a device's revocation, in its transaction: the device's K_srv rows are deleted and an unbind is queued
   * for every issuer it had cards at. `sendUnbinds` sends them once the revocation has committed.
   */
  async forgetDevice(tx: Executor, device: DeviceRow): Promise<void> {
    await forgetDeviceCards(tx, device.id);
    // Every issuer that ever bound the key: its cards' (removed ones too: a removed card's binding stays at the
    // issuer) and its passed cardholder checks' (a PIN reset binds the asking device to the card it proved).
    await queueUnbinds(tx, device.id, device.keyThumbprint, await issuersBoundTo(tx, device.id));
  }

  /** Sends the device's pending unbinds; returns each issuer's acknowledgement (false: retried later). */
  async sendUnbinds(deviceId: string): Promise<Array<{ issuerId: string; acknowledged: boolean }>> {
    const rows = await unbindsOf(this.db, deviceId);
    return Promise.all(
      rows.map(async (row) => ({
        issuerId: row.issuerId,
        acknowledged: row.status === "acknowledged" || (await this.#unbind(row)),
      })),
    );
  }

  /** The reconciler's part: re-sends unbinds the issuers have not acknowledged yet. */
  async retryUnbinds(limit = 50, now = this.clock.now()): Promise<number> {
    let acknowledged = 0;
    for (const row of await dueUnbinds(this.db, limit, now)) if (await this.#unbind(row)) acknowledged++;
    return acknowledged;
  }

  async #unbind(row: { deviceId: string; issuerId: string; deviceKid: string }): Promise<boolean> {
    try {
      await this.issuers.unbindDevice(row.issuerId, row.deviceKid);
      await acknowledgeUnbind(this.db, row.deviceId, row.issuerId);
      await this.audit.record({
        actor: "system",
        action: "device.unbound_at_issuer",
        target: row.deviceId,
        data: { issuerId: row.issuerId },
      });
      return true;
    } catch {
      await postponeUnbind(this.db, row.deviceId, row.issuerId);
      return false;
    }
  }

  /** The issuer is known, and a try is claimed for the payer and the address within their hourly limits. */
  async #withinEnrollmentLimits(payer: PayerRow, clientIp: string, issuerId: string): Promise<void> {
    await this.issuers.requireKnown(issuerId);
    if (!(await this.enrollmentLimits.claimTry(payer.id, clientIp))) {
      await this.audit.record({
        actor: `payer:${payer.id}`,
        action: "card.enrollment_rate_limited",
        target: payer.id,
        data: { issuerId },
      });
      throw new ApiError("card_enrollment_rate_limited", "Too many card enrollments; try again in an hour.");
    }
  }
}

/** What an `enroll-card` statement names of its JWE: the base64url SHA-256 of the compact serialization. */
export function enrollmentHash(jwe: string): string {
  return createHash("sha256").update(jwe).digest("base64url");
}

function decodeShare(text: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = base64url.decode(text);
  } catch {
    throw new ApiError("card_records_invalid", "kSrv is not base64url.", "kSrv");
  }
  if (bytes.length !== SHARE_BYTES) {
    bytes.fill(0);
    throw new ApiError("card_records_invalid", `kSrv is ${SHARE_BYTES} bytes.`, "kSrv");
  }
  return bytes;
}
