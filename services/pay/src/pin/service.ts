/**
 * The payment PIN over OPAQUE (RFC 9807, `@serenity-kit/opaque`): the server never receives the PIN, and without
 * the OPRF key (the OPAQUE server setup, kept sealed by the key provider) its records cannot be tested offline.
 *
 * Tries: a try is counted when a login *starts*, before the server's reply, and only a verified finish clears it;
 * so a client that stops after learning its PIN was wrong has still spent the try. Five counted tries lock the
 * PIN (the count changes in one conditional UPDATE: no race grants a sixth). A login is single-use, expires after
 * LOGIN_TTL_MS, and a payer has one outstanding at a time. Setting or changing a PIN needs more than a messenger
 * session: an active device's signature, or the current PIN.
 */

import * as opaque from "@serenity-kit/opaque";
import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { AuditService } from "../audit/service.ts";
import type { KeyProvider } from "../keys/provider.ts";
import { providerSecret } from "../keys/provider-secrets.ts";
import type { DeviceService } from "../devices/service.ts";
import { signerOf, verifyDeviceStatement } from "../devices/signatures.ts";
import type { PayerRow } from "../payers/store.ts";
import { createHash, randomBytes } from "node:crypto";
import { newId } from "@mpay/protocol";
import { MAX_PIN_TRIES, clearTries, countTry, endReset, takeAnyLogin, findPin, insertPin, insertReset, markLocked, pendingReset, putLogin, replacePin, takeLogin, type PinResetRow } from "./store.ts";

const LOGIN_TTL_MS = 60_000;

/**
 * What a PIN login proves the PIN for: a check, a change, one payment's approval, or adding a passkey (a passkey
 * is another way to approve payments, so it is never added on a device's word alone: a stolen device store would
 * otherwise add its own and have cards released to it).
 */
export type PinPurpose = "pin-check" | "pin-change" | "add-passkey" | `approval:${string}`;

/** The AAD of a login's sealed OPAQUE state (keys/resealers.ts re-seals with the same one after a rotation). */
export function pinLoginAad(payerId: string, loginId: string): string {
  return `${payerId}|${loginId}`;
}

export interface PinStatus {
  set: boolean;
  locked: boolean;
  triesLeft: number;
}

export class PinService {
  private serverSetup: Promise<string> | null = null;

  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    private readonly devices: DeviceService,
    private readonly audit: AuditService,
    private readonly waitingPeriodSeconds: number,
  ) {}

  async status(payer: PayerRow): Promise<PinStatus> {
    await this.applyDueReset(payer);
    const pin = await findPin(this.db, payer.id);
    if (!pin) return { set: false, locked: false, triesLeft: MAX_PIN_TRIES };
    const locked = pin.lockedAt !== null || pin.failedTries >= MAX_PIN_TRIES;
    return { set: true, locked, triesLeft: locked ? 0 : MAX_PIN_TRIES - pin.failedTries };
  }

  /** Answers the wallet's registration request (stateless: nothing is stored until the finish). */
  async registrationResponse(payer: PayerRow, registrationRequest: string): Promise<string> {
    const serverSetup = await this.setup();
    return opaqueCall(() => opaque.server.createRegistrationResponse({ serverSetup, userIdentifier: payer.id, registrationRequest }).registrationResponse);
  }

  /** Sets the first PIN: needs `{ purpose: "set-pin", payerId }` signed by one of the payer's active devices. */
  async setPin(payer: PayerRow, registrationRecord: string, deviceSignature: string): Promise<void> {
    const signer = await this.devices.activeDevice(payer.id, signerOf(deviceSignature));
    if (!signer) throw new ApiError("device_signature_invalid", "Setting a PIN must be signed by one of your active devices.");
    await verifyDeviceStatement(deviceSignature, signer, { purpose: "set-pin", payerId: payer.id });
    assertRecord(registrationRecord);
    await this.db.transaction(async (tx) => {
      if (!(await insertPin(tx, payer.id, registrationRecord))) {
        throw new ApiError("pin_already_set", "A PIN is already set; change it with the current PIN.");
      }
      await this.audit.append(tx, { actor: `payer:${payer.id}`, action: "pin.set", target: payer.id, data: { device: signer.id } });
    });
  }

  /** Replaces the PIN after a verified login with the current one (purpose `pin-change`). */
  async changePin(payer: PayerRow, login: { loginId: string; finishLoginRequest: string }, registrationRecord: string): Promise<void> {
    assertRecord(registrationRecord);
    (await this.verifyLogin(payer, login.loginId, login.finishLoginRequest, "pin-change")).fill(0);
    await this.db.transaction(async (tx) => {
      await replacePin(tx, payer.id, registrationRecord);
      await this.audit.append(tx, { actor: `payer:${payer.id}`, action: "pin.changed", target: payer.id, data: {} });
    });
  }

  /**
   * Starts a login for `purpose`. The wallet's message is checked first (a malformed one costs no try), then the
   * try is counted, then the server's reply is made and its state stored sealed; only then does the reply leave.
   */
  async startLogin(payer: PayerRow, startLoginRequest: string, purpose: PinPurpose): Promise<{ loginId: string; loginResponse: string; triesLeft: number }> {
    await this.applyDueReset(payer);
    const pin = await findPin(this.db, payer.id);
    if (!pin) throw new ApiError("pin_not_set", "Set a payment PIN first.");
    const serverSetup = await this.setup();
    const { serverLoginState, loginResponse } = opaqueCall(() =>
      opaque.server.startLogin({ serverSetup, registrationRecord: pin.registrationRecord, startLoginRequest, userIdentifier: payer.id }),
    );
    const counted = await countTry(this.db, payer.id);
    if (counted === null) {
      await this.auditUnfinished(payer);
      await this.lock(payer);
      throw new ApiError("pin_locked", "The PIN is locked after too many tries; reset it from a bound device.");
    }
    const loginId = `pl_${randomBytes(18).toString("base64url")}`;
    const sealedState = await this.keys.seal("pin-login-state", new TextEncoder().encode(serverLoginState), pinLoginAad(payer.id, loginId));
    const unfinished = await putLogin(this.db, { payerId: payer.id, loginId, sealedState, purpose, expiresAt: new Date(Date.now() + LOGIN_TTL_MS) });
    if (unfinished) {
      // The previous try was counted and never verified: a wrong PIN (known only on the device) or an abandoned
      // login. Either is a failure the audit log records, at the latest when the next try starts.
      await this.audit.record({ actor: `payer:${payer.id}`, action: "pin.failed", target: payer.id, data: { purpose: unfinished, triesLeft: MAX_PIN_TRIES - counted } });
    }
    return { loginId, loginResponse, triesLeft: MAX_PIN_TRIES - counted };
  }

  /**
   * Finishes a login for `purpose` and returns the OPAQUE session key (64 bytes) on success, clearing the tries.
   * Single use: the login is taken out first, so a replayed finish fails in every process.
   */
  async verifyLogin(payer: PayerRow, loginId: string, finishLoginRequest: string, purpose: PinPurpose): Promise<Uint8Array> {
    const login = await takeLogin(this.db, payer.id, loginId);
    if (!login || login.expiresAt.getTime() < Date.now() || login.purpose !== purpose) {
      throw new ApiError("pin_login_invalid", "This PIN login is unknown, used, expired or for something else; start again.");
    }
    const pin = await findPin(this.db, payer.id);
    if (!pin || pin.lockedAt !== null) throw new ApiError("pin_locked", "The PIN is locked after too many tries; reset it from a bound device.");
    const opened = await this.keys.open("pin-login-state", login.sealedState, pinLoginAad(payer.id, loginId));
    const serverLoginState = new TextDecoder().decode(opened);
    opened.fill(0);
    let sessionKey: string;
    try {
      sessionKey = opaque.server.finishLogin({ serverLoginState, finishLoginRequest }).sessionKey;
    } catch {
      await this.audit.record({ actor: `payer:${payer.id}`, action: "pin.failed", target: payer.id, data: { purpose } });
      if (pin.failedTries >= MAX_PIN_TRIES) await this.lock(payer);
      throw new ApiError("pin_login_invalid", "The PIN could not be verified.");
    }
    await clearTries(this.db, payer.id);
    return Buffer.from(sessionKey, "base64url");
  }

  /**
   * Asks for a PIN reset (the payer forgot it, or it is locked): needs `{ purpose: "reset-pin", payerId,
   * recordHash }` signed by an active device, where recordHash is the base64url SHA-256 of the new registration
   * record, so nobody can swap the record on the way. The reset waits out the waiting period, during which any of
   * the payer's devices can cancel it; a messenger session alone can neither ask for nor hurry it.
   */
  async requestReset(payer: PayerRow, registrationRecord: string, deviceSignature: string): Promise<PinResetRow> {
    assertRecord(registrationRecord);
    const signer = await this.devices.activeDevice(payer.id, signerOf(deviceSignature));
    if (!signer) throw new ApiError("device_signature_invalid", "A PIN reset must be signed by one of your active devices.");
    await verifyDeviceStatement(deviceSignature, signer, { purpose: "reset-pin", payerId: payer.id, recordHash: recordHash(registrationRecord) });
    if (!(await findPin(this.db, payer.id))) throw new ApiError("pin_not_set", "No PIN is set; set one instead.");
    return this.db.transaction(async (tx) => {
      // One at a time per payer (the partial unique index is the backstop).
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`pin-reset|${payer.id}`}))`);
      if (await pendingReset(tx, payer.id)) throw new ApiError("pin_reset_pending", "A PIN reset is already waiting; cancel it first.");
      const reset = await insertReset(tx, {
        id: newId("pinReset"),
        payerId: payer.id,
        registrationRecord,
        requestedBy: `device:${signer.id}`,
        status: "pending",
        activatesAt: new Date(Date.now() + this.waitingPeriodSeconds * 1000),
      });
      await this.audit.append(tx, { actor: `payer:${payer.id}`, action: "pin.reset_requested", target: reset.id, data: { device: signer.id, activatesAt: reset.activatesAt.toISOString() } });
      return reset;
    });
  }

  /** The payer's pending reset, if any (after applying one whose waiting period has ended). */
  async pendingReset(payer: PayerRow): Promise<PinResetRow | null> {
    await this.applyDueReset(payer);
    return pendingReset(this.db, payer.id);
  }

  /** Cancels a pending reset on the word of an active device: `{ purpose: "cancel-pin-reset", payerId, resetId }`. */
  async cancelReset(payer: PayerRow, resetId: string, signature: string): Promise<void> {
    const signer = await this.devices.activeDevice(payer.id, signerOf(signature));
    if (!signer) throw new ApiError("device_signature_invalid", "Cancelling a PIN reset must be signed by one of your active devices.");
    await verifyDeviceStatement(signature, signer, { purpose: "cancel-pin-reset", payerId: payer.id, resetId });
    const pending = await pendingReset(this.db, payer.id);
    if (!pending || pending.id !== resetId || pending.activatesAt.getTime() <= Date.now() || !(await endReset(this.db, resetId, "canceled"))) {
      throw new ApiError("resource_missing", "No such pending PIN reset.", "id");
    }
    await this.audit.record({ actor: `payer:${payer.id}`, action: "pin.reset_canceled", target: resetId, data: { device: signer.id } });
  }

  /** A reset whose waiting period has ended replaces the PIN (and lifts a lock), once, whoever notices first. */
  private async applyDueReset(payer: PayerRow): Promise<void> {
    const pending = await pendingReset(this.db, payer.id);
    if (!pending || pending.activatesAt.getTime() > Date.now()) return;
    // A reset asked for by a device revoked since then no longer stands.
    const requester = pending.requestedBy.replace(/^device:/, "");
    if (!(await this.devices.isActive(payer.id, requester))) {
      if (await endReset(this.db, pending.id, "canceled")) {
        await this.audit.record({ actor: "system", action: "pin.reset_canceled", target: pending.id, data: { reason: "requesting device revoked" } });
      }
      return;
    }
    await this.db.transaction(async (tx) => {
      if (!(await endReset(tx, pending.id, "applied"))) return;
      await replacePin(tx, payer.id, pending.registrationRecord);
      await this.audit.append(tx, { actor: `payer:${payer.id}`, action: "pin.reset_applied", target: pending.id, data: {} });
    });
  }

  /** At the lock, the last counted try's login may still be waiting: it failed too. */
  private async auditUnfinished(payer: PayerRow): Promise<void> {
    const last = await takeAnyLogin(this.db, payer.id);
    if (last) await this.audit.record({ actor: `payer:${payer.id}`, action: "pin.failed", target: payer.id, data: { purpose: last, triesLeft: 0 } });
  }

  private async lock(payer: PayerRow): Promise<void> {
    if (await markLocked(this.db, payer.id)) {
      await this.audit.record({ actor: `payer:${payer.id}`, action: "pin.locked", target: payer.id, data: { tries: MAX_PIN_TRIES } });
    }
  }

  private setup(): Promise<string> {
    this.serverSetup ??= (async () => {
      await opaque.ready;
      const secret = await providerSecret(this.db, this.keys, "opaque-server-setup", () => opaque.server.createSetup());
      return secret.peek();
    })().catch((error: unknown) => {
      this.serverSetup = null;
      throw error;
    });
    return this.serverSetup;
  }
}

/** Runs a library call on a wallet-supplied message; the library's own error text may quote the message. */
function opaqueCall<T>(call: () => T): T {
  try {
    return call();
  } catch {
    throw new ApiError("opaque_message_invalid", "The PIN message from the wallet is malformed.");
  }
}

/** What a reset's device signature names: the base64url SHA-256 of the new registration record. */
export function recordHash(record: string): string {
  return createHash("sha256").update(record).digest("base64url");
}

function assertRecord(record: string): void {
  if (!/^[A-Za-z0-9_-]{100,400}$/.test(record)) throw new ApiError("opaque_message_invalid", "The PIN registration record is malformed.", "registrationRecord");
}
