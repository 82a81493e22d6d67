/**
 * The payment PIN over OPAQUE (RFC 9807, `@serenity-kit/opaque`): the server never receives the PIN, and without
 * the OPRF key (the OPAQUE server setup, kept sealed by the key provider) its records cannot be tested offline.
 *
 * Tries: a try is counted when a login *starts*, before the server's reply, and only a verified finish clears it;
 * so a client that stops after learning its PIN was wrong has still spent the try. Five counted tries lock the
 * PIN (the count changes in one conditional UPDATE: no race grants a sixth). A login is single-use, expires after
 * LOGIN_TTL_MS, and a payer has one outstanding at a time. Setting the first PIN needs an active device's word;
 * changing it the current PIN; resetting a forgotten one the issuer's cardholder check and the waiting period (the
 * recovery context runs that check and calls `openReset`/`confirmReset` here), and a PIN proof cancels a reset.
 * A PIN proof for a named purpose (`prove`) is what the power order puts above a device's word (DESIGN.md).
 */

import * as opaque from "@serenity-kit/opaque";
import { sql } from "drizzle-orm";
import type { Clock } from "@mpay/service-kit";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { AuditService } from "../audit/service.ts";
import type { AnnouncementRef, AnnouncementService } from "../announcements/service.ts";
import type { KeyProvider } from "../keys/provider.ts";
import { providerSecret } from "../keys/provider-secrets.ts";
import type { DeviceService, PinProof, PinProofs } from "../devices/service.ts";
import type { PayerRow } from "../payers/service.ts";
import { createHash, randomBytes } from "node:crypto";
import { newId, PIN_LOGIN_PURPOSE_PATTERN, type PinLoginPurpose } from "@mpay/protocol";
import { inlineOpaqueServer, type OpaqueServer } from "./opaque-server.ts";
import {
  MAX_PIN_TRIES,
  clearTries,
  countTryAndPutLogin,
  findPinWithPendingReset,
  takeLoginWithPin,
  confirmReset,
  endReset,
  findReset,
  takeAnyLogin,
  findPin,
  insertPin,
  insertReset,
  markLocked,
  pendingReset,
  replacePin,
  restorePreviousPin,
  type PinResetRow,
} from "./store.ts";

/** The row other contexts see; they import it from here, never from the store. */
export type { PinResetRow } from "./store.ts";

const LOGIN_TTL_MS = 60_000;

/** What a PIN login proves the PIN for (packages/protocol: the wallet names the same purposes). */
export type PinPurpose = PinLoginPurpose;
export const PIN_PURPOSE_PATTERN = PIN_LOGIN_PURPOSE_PATTERN;

/** The AAD of a login's sealed OPAQUE state (pin/resealer.ts re-seals with the same one after a rotation). */
export function pinLoginAad(payerId: string, loginId: string): string {
  return `${payerId}|${loginId}`;
}

export interface PinStatus {
  set: boolean;
  locked: boolean;
  triesLeft: number;
}

export class PinService implements PinProofs {
  private serverSetup: Promise<string> | null = null;

  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    private readonly devices: DeviceService,
    private readonly audit: AuditService,
    private readonly waitingPeriodSeconds: number,
    private readonly clock: Clock,
    private readonly announcements: AnnouncementService,
    /** The OPAQUE login steps: a worker pool in the server (system.ts), on the event loop otherwise. */
    private readonly opaque: OpaqueServer = inlineOpaqueServer,
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
    return await opaqueCall(
      () =>
        opaque.server.createRegistrationResponse({ serverSetup, userIdentifier: payer.id, registrationRequest })
          .registrationResponse,
    );
  }

  /** Sets the first PIN: needs `{ purpose: "set-pin", payerId, nonce }` signed by one of the payer's active devices. */
  async setPin(payer: PayerRow, registrationRecord: string, deviceSignature: string): Promise<void> {
    const signer = await this.devices.verifyStatement(
      payer,
      deviceSignature,
      { purpose: "set-pin", payerId: payer.id },
      { param: "deviceSignature" },
    );
    assertRecord(registrationRecord);
    await this.db.transaction(async (tx) => {
      if (!(await insertPin(tx, payer.id, registrationRecord))) {
        throw new ApiError("pin_already_set", "A PIN is already set; change it with the current PIN.");
      }
      await this.audit.append(tx, {
        actor: `payer:${payer.id}`,
        action: "pin.set",
        target: payer.id,
        data: { device: signer.id },
      });
    });
  }

  /**
   * Replaces the PIN after a verified login with the current one (purpose `pin-change`). The replaced record stays
   * good for a recovery's PIN proof during the waiting period: someone who saw the PIN and changed it on a stolen
   * phone does not lock the payer out of recovering with the card and the PIN they know.
   */
  async changePin(
    payer: PayerRow,
    login: { loginId: string; finishLoginRequest: string },
    registrationRecord: string,
  ): Promise<void> {
    assertRecord(registrationRecord);
    (await this.verifyLogin(payer, login.loginId, login.finishLoginRequest, "pin-change")).fill(0);
    const previousPinUntil = new Date(this.clock.now().getTime() + this.waitingPeriodSeconds * 1000);
    const announced = await this.db.transaction(async (tx) => {
      await replacePin(tx, payer.id, registrationRecord, previousPinUntil);
      await this.audit.append(tx, { actor: `payer:${payer.id}`, action: "pin.changed", target: payer.id, data: {} });
      return this.announcements.announce(tx, payer.id, { kind: "pin_changed", previousPinUntil });
    });
    this.announcements.sendSoon(announced);
  }

  /**
   * Starts a login for `purpose`. The wallet's message is checked first (a malformed one costs no try), then the
   * try is counted, then the server's reply is made and its state stored sealed; only then does the reply leave.
   */
  async startLogin(
    payer: PayerRow,
    startLoginRequest: string,
    purpose: PinPurpose,
    options: { previousPin?: boolean } = {},
  ): Promise<{ loginId: string; loginResponse: string; triesLeft: number }> {
    // One read for the PIN and a pending reset; a reset whose waiting period ended applies first (rare: re-read).
    let found = await findPinWithPendingReset(this.db, payer.id);
    if (found?.pendingReset && (await this.applyDueReset(payer, found.pendingReset)))
      found = await findPinWithPendingReset(this.db, payer.id);
    const pin = found?.pin;
    if (!pin) throw new ApiError("pin_not_set", "Set a payment PIN first.");
    // Only a recovery may prove the PIN as it was before a change, and only within the waiting period after it.
    const againstPrevious = options.previousPin === true;
    if (
      againstPrevious &&
      (!purpose.startsWith("recovery:") ||
        !pin.previousRecord ||
        !pin.previousUntil ||
        pin.previousUntil <= this.clock.now())
    ) {
      throw new ApiError(
        "pin_login_invalid",
        "There is no earlier PIN to prove for this: use the current PIN.",
        "previousPin",
      );
    }
    const registrationRecord = againstPrevious ? pin.previousRecord! : pin.registrationRecord;
    const serverSetup = await this.setup();
    const { serverLoginState, loginResponse } = await opaqueCall(() =>
      this.opaque.startLogin({ serverSetup, registrationRecord, startLoginRequest, userIdentifier: payer.id }),
    );
    const loginId = `pl_${randomBytes(18).toString("base64url")}`;
    const sealedState = await this.keys.seal(
      "pin-login-state",
      new TextEncoder().encode(serverLoginState),
      pinLoginAad(payer.id, loginId),
    );
    // The try is claimed and the login stored in one statement, before the reply leaves.
    const { counted, replaced: unfinished } = await countTryAndPutLogin(this.db, {
      payerId: payer.id,
      loginId,
      sealedState,
      purpose,
      againstPrevious,
      expiresAt: new Date(this.clock.now().getTime() + LOGIN_TTL_MS),
    });
    if (counted === null) {
      await this.auditUnfinished(payer);
      await this.lock(payer);
      throw new ApiError("pin_locked", "The PIN is locked after too many tries; reset it from a bound device.");
    }
    if (unfinished) {
      // The previous try was counted and never verified: a wrong PIN (known only on the device) or an abandoned
      // login. Either is a failure the audit log records, at the latest when the next try starts.
      await this.audit.record({
        actor: `payer:${payer.id}`,
        action: "pin.failed",
        target: payer.id,
        data: { purpose: unfinished, triesLeft: MAX_PIN_TRIES - counted },
      });
    }
    return { loginId, loginResponse, triesLeft: MAX_PIN_TRIES - counted };
  }

  /**
   * Finishes a login for `purpose` and returns the OPAQUE session key (64 bytes) on success, clearing the tries.
   * Single use: the login is taken out first, so a replayed finish fails in every process.
   */
  async verifyLogin(
    payer: PayerRow,
    loginId: string,
    finishLoginRequest: string,
    purpose: PinPurpose,
  ): Promise<Uint8Array> {
    return (await this.#finishLogin(payer, loginId, finishLoginRequest, purpose)).sessionKey;
  }

  async #finishLogin(
    payer: PayerRow,
    loginId: string,
    finishLoginRequest: string,
    purpose: PinPurpose,
  ): Promise<{ sessionKey: Uint8Array; againstPrevious: boolean }> {
    // The login is taken out (single use) and the PIN's lock state read in one statement.
    const login = await takeLoginWithPin(this.db, payer.id, loginId);
    if (!login || login.expiresAt.getTime() < this.clock.now().getTime() || login.purpose !== purpose) {
      throw new ApiError(
        "pin_login_invalid",
        "This PIN login is unknown, used, expired or for something else; start again.",
      );
    }
    if (login.failedTries === null || login.locked)
      throw new ApiError("pin_locked", "The PIN is locked after too many tries; reset it from a bound device.");
    const opened = await this.keys.open("pin-login-state", login.sealedState, pinLoginAad(payer.id, loginId));
    const serverLoginState = new TextDecoder().decode(opened);
    opened.fill(0);
    let sessionKey: string;
    try {
      sessionKey = (await this.opaque.finishLogin({ serverLoginState, finishLoginRequest })).sessionKey;
    } catch {
      await this.audit.record({
        actor: `payer:${payer.id}`,
        action: "pin.failed",
        target: payer.id,
        data: { purpose },
      });
      if (login.failedTries >= MAX_PIN_TRIES) await this.lock(payer);
      throw new ApiError("pin_login_invalid", "The PIN could not be verified.");
    }
    await clearTries(this.db, payer.id);
    return { sessionKey: Buffer.from(sessionKey, "base64url"), againstPrevious: login.againstPrevious };
  }

  /**
   * A PIN proof for one purpose (DESIGN.md "the power order"): the login's finish is verified and its session key
   * wiped at once (no payment rides on it). A wrong PIN spends a try like any login.
   */
  async prove(payer: PayerRow, proof: PinProof, purpose: string): Promise<{ againstPrevious: boolean }> {
    if (!PIN_PURPOSE_PATTERN.test(purpose)) throw new Error(`not a PIN purpose: ${purpose}`);
    const { sessionKey, againstPrevious } = await this.#finishLogin(
      payer,
      proof.loginId,
      proof.finishLoginRequest,
      purpose as PinPurpose,
    );
    sessionKey.fill(0);
    return { againstPrevious };
  }

  /**
   * A recovery proved the PIN as it was before a change made within the waiting period: that PIN is the payer's
   * again (the change was someone else's), in the recovery's transaction.
   */
  async restorePrevious(tx: Executor, payer: PayerRow): Promise<void> {
    if (await restorePreviousPin(tx, payer.id)) {
      await this.audit.append(tx, {
        actor: `payer:${payer.id}`,
        action: "pin.restored",
        target: payer.id,
        data: { reason: "recovery proved the PIN before its last change" },
      });
    }
  }

  /**
   * Opens a PIN reset that waits for the issuer's cardholder check (`cardholderCheckId`): nothing changes until
   * `confirmReset`. The new record was named by the requesting device's signature, so nobody swaps it on the way.
   */
  async openReset(
    payer: PayerRow,
    input: { registrationRecord: string; requestedBy: string; cardholderCheckId: string },
  ): Promise<PinResetRow> {
    assertRecord(input.registrationRecord);
    if (!(await findPin(this.db, payer.id))) throw new ApiError("pin_not_set", "No PIN is set; set one instead.");
    return insertReset(this.db, {
      id: newId("pinReset", this.clock.now().getTime()),
      payerId: payer.id,
      registrationRecord: input.registrationRecord,
      requestedBy: input.requestedBy,
      cardholderCheckId: input.cardholderCheckId,
      status: "verification_required",
      activatesAt: this.clock.now(),
    });
  }

  /** The payer's reset by id, in any state. */
  async reset(payer: PayerRow, resetId: string): Promise<PinResetRow> {
    const reset = await findReset(this.db, payer.id, resetId);
    if (!reset) throw new ApiError("resource_missing", "No such PIN reset.", "id");
    return reset;
  }

  /**
   * The issuer checked the cardholder: the reset starts its waiting period, in the caller's transaction (which also
   * announces it). One reset waits at a time per payer.
   */
  async confirmReset(
    tx: Executor,
    payer: PayerRow,
    resetId: string,
  ): Promise<{ reset: PinResetRow; announced: AnnouncementRef }> {
    // One at a time per payer (the partial unique index is the backstop).
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`pin-reset|${payer.id}`}))`);
    if (await pendingReset(tx, payer.id))
      throw new ApiError("pin_reset_pending", "A PIN reset is already waiting; cancel it first.");
    const activatesAt = new Date(this.clock.now().getTime() + this.waitingPeriodSeconds * 1000);
    const reset = await confirmReset(tx, payer.id, resetId, activatesAt);
    if (!reset)
      throw new ApiError("pin_reset_invalid", "This PIN reset is no longer waiting for the card check; start again.");
    await this.audit.append(tx, {
      actor: `payer:${payer.id}`,
      action: "pin.reset_requested",
      target: reset.id,
      data: { requestedBy: reset.requestedBy, activatesAt: activatesAt.toISOString() },
    });
    // Announced in the same transaction; the caller sends it once committed.
    return {
      reset,
      announced: await this.announcements.announce(tx, payer.id, {
        kind: "pin_reset_pending",
        resetId: reset.id,
        activatesAt,
      }),
    };
  }

  /** Ends a reset whose cardholder check failed. */
  async abandonReset(resetId: string): Promise<void> {
    await endReset(this.db, resetId, "canceled", ["verification_required"], this.clock.now());
  }

  /** The payer's pending reset, if any (after applying one whose waiting period has ended). */
  async pendingReset(payer: PayerRow): Promise<PinResetRow | null> {
    await this.applyDueReset(payer);
    return pendingReset(this.db, payer.id);
  }

  /**
   * Cancels a pending reset with a PIN proof for `cancel-pin-reset:<resetId>` (from any session of the payer's):
   * whoever knows the PIN did not forget it. A device's word alone cancels nothing (issue 7).
   */
  async cancelReset(payer: PayerRow, resetId: string, proof: PinProof): Promise<PinResetRow> {
    const pending = await this.pendingReset(payer);
    if (!pending || pending.id !== resetId) throw new ApiError("resource_missing", "No such pending PIN reset.", "id");
    await this.prove(payer, proof, `cancel-pin-reset:${resetId}`);
    const { ended, announced } = await this.db.transaction(async (tx) => {
      const row = await endReset(tx, resetId, "canceled", ["pending"], this.clock.now());
      if (!row) throw new ApiError("resource_missing", "No such pending PIN reset.", "id");
      await this.audit.append(tx, {
        actor: `payer:${payer.id}`,
        action: "pin.reset_canceled",
        target: resetId,
        data: { by: "pin" },
      });
      return {
        ended: row,
        announced: await this.announcements.announce(tx, payer.id, {
          kind: "change_canceled",
          changeId: resetId,
          change: "pin_reset",
        }),
      };
    });
    this.announcements.sendSoon(announced);
    return ended;
  }

  /** A reset whose waiting period has ended replaces the PIN (and lifts a lock), once, whoever notices first. */
  /** `known`: the pending reset the caller already read. True when the PIN or the reset changed. */
  private async applyDueReset(payer: PayerRow, known?: PinResetRow): Promise<boolean> {
    const pending = known ?? (await pendingReset(this.db, payer.id));
    if (!pending || pending.activatesAt.getTime() > this.clock.now().getTime()) return false;
    // A reset asked for by a device revoked since then no longer stands.
    const requester = pending.requestedBy.replace(/^device:/, "");
    if (!(await this.devices.isActive(payer.id, requester))) {
      if (await endReset(this.db, pending.id, "canceled", ["pending"], this.clock.now())) {
        await this.audit.record({
          actor: "system",
          action: "pin.reset_canceled",
          target: pending.id,
          data: { reason: "requesting device revoked" },
        });
      }
      return true;
    }
    const announced = await this.db.transaction(async (tx) => {
      if (!(await endReset(tx, pending.id, "applied", ["pending"], this.clock.now()))) return null;
      await replacePin(tx, payer.id, pending.registrationRecord);
      await this.audit.append(tx, {
        actor: `payer:${payer.id}`,
        action: "pin.reset_applied",
        target: pending.id,
        data: {},
      });
      return this.announcements.announce(tx, payer.id, { kind: "pin_reset_applied", resetId: pending.id });
    });
    if (announced) this.announcements.sendSoon(announced);
    return true;
  }

  /** At the lock, the last counted try's login may still be waiting: it failed too. */
  private async auditUnfinished(payer: PayerRow): Promise<void> {
    const last = await takeAnyLogin(this.db, payer.id);
    if (last)
      await this.audit.record({
        actor: `payer:${payer.id}`,
        action: "pin.failed",
        target: payer.id,
        data: { purpose: last, triesLeft: 0 },
      });
  }

  private async lock(payer: PayerRow): Promise<void> {
    if (await markLocked(this.db, payer.id)) {
      await this.audit.record({
        actor: `payer:${payer.id}`,
        action: "pin.locked",
        target: payer.id,
        data: { tries: MAX_PIN_TRIES },
      });
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
async function opaqueCall<T>(call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch {
    throw new ApiError("opaque_message_invalid", "The PIN message from the wallet is malformed.");
  }
}

/** What a reset's device signature names: the base64url SHA-256 of the new registration record. */
export function recordHash(record: string): string {
  return createHash("sha256").update(record).digest("base64url");
}

function assertRecord(record: string): void {
  if (!/^[A-Za-z0-9_-]{100,400}$/.test(record))
    throw new ApiError("opaque_message_invalid", "The PIN registration record is malformed.", "registrationRecord");
}
