/**
 * Recovery and PIN reset under the power order (DESIGN.md "Authentication without plugins"; issue 7), with the
 * wallet SDK against a pay server and a real issuer host, all on one test clock that the tests move:
 * - a recovery with the issuer's check and the PIN takes effect at once and may revoke every other device, which
 *   the issuer then unbinds; with the check alone it waits, then revokes the others, and only a PIN proof or another
 *   issuer check cancels it (a device's word does not);
 * - a PIN reset needs the issuer's check and the waiting period, and a PIN proof cancels it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClock } from "@mpay/service-kit";
import { isPayApiError, PayClient, Wallet } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { DEFAULT_ENROLLMENT_LIMITS, openTestNetwork, type TestNetwork } from "@mpay/testing/network";
import { call, paymentBody } from "../testing/system.ts";

const PIN = "305718";
const NEW_PIN = "864209";
const WAIT_SECONDS = 86_400;
const CARD = { pan: "4111000000000016", expiry: "12/31", cvc: "806", phone: "+821055510001" };
const OTHER_CARD = { pan: "5111000000000021", expiry: "12/31", cvc: "932", phone: "+821055510002" };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

describe.each(testBackends())("recovery and PIN reset under the power order [%s]", (backend) => {
  let net: TestNetwork;
  let folder: string;
  let baseUrl: string;
  const clock = new TestClock();

  beforeAll(async () => {
    // The issuer's per-card limits are raised: these tests prove the same two cards many times on purpose.
    const enrollmentLimits = { ...DEFAULT_ENROLLMENT_LIMITS, codesPerCard: 100, cardFailures: 100 };
    net = await openTestNetwork(backend, {
      pay: { deviceWaitingPeriodSeconds: WAIT_SECONDS, clock },
      issuerConfig: { clock, enrollmentLimits },
    });
    baseUrl = await net.pay.app.listen({ host: "127.0.0.1", port: 0 });
    folder = await mkdtemp(join(tmpdir(), "mpay-recovery-"));
  });
  afterAll(async () => {
    await net?.close();
    await rm(folder, { recursive: true, force: true });
  });

  /** A wallet on a new device, signed in through the messenger as `subject` (a session of its own). */
  async function device(subject: string, name: string): Promise<Wallet> {
    const session = await net.pay.system.payers.openSession({
      subject,
      displayName: "Park Seoyeon",
      phoneNumber: null,
    });
    return new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore: new FileKeyStore(join(folder, `${subject}-${name}.json`), FileKeyStore.newDeviceSecret()),
      client: new PayClient({ baseUrl, sessionToken: session.sessionToken.peek() }),
      keyStretching: "memory-constrained",
      now: clock.now,
    });
  }

  /** A payer whose phone is bound, with the PIN set and `card` enrolled on it. */
  async function payerWithPhone(subject: string, card = CARD): Promise<Wallet> {
    const phone = await device(subject, "phone");
    await phone.bindThisDevice("Phone");
    await phone.setPin(PIN);
    await (await phone.startCardEnrollment(card)).complete(await net.latestCode(card.phone));
    return phone;
  }

  const newPayment = async (amount = 8000) =>
    (
      await call<{ id: string }>(
        net.pay.app,
        "POST",
        "/v1/payments",
        net.pay.merchant.secretKey,
        paymentBody({ amount }),
      )
    ).body.id;
  const unbindStatus = async (deviceId: string) =>
    (
      await queryRows<{ status: string }>(
        net.pay.system.database.db,
        sql`select status from device_unbinds where device_id = ${deviceId}`,
      )
    ).map((r) => r.status);

  it("a recovery with the card and the PIN takes effect at once and revokes the other devices, which the issuer then refuses", async () => {
    const phone = await payerWithPhone("acct_recovery_pin");
    const phoneId = (await phone.thisDevice())!.id;
    const phoneCard = (await phone.cards())[0]!.id;
    const laptop = await device("acct_recovery_pin", "laptop");
    // The messenger sign-in alone binds nothing.
    expect(isPayApiError(await rejection(laptop.bindThisDevice("Laptop")), "device_approval_required")).toBe(true);
    // A card the payer never enrolled here proves nothing about this account.
    const stranger = await laptop.startRecovery(OTHER_CARD, { deviceName: "Laptop" });
    expect(
      isPayApiError(
        await rejection(stranger.complete(await net.latestCode(OTHER_CARD.phone), { pin: PIN })),
        "recovery_not_possible",
      ),
    ).toBe(true);

    const recovery = await laptop.startRecovery(CARD, { deviceName: "Laptop" });
    const recovered = await recovery.complete(await net.latestCode(CARD.phone), { pin: PIN, revokeOtherDevices: true });
    expect(recovered).toMatchObject({
      status: "active",
      card: { status: "active", last4: "0016" },
      revokedDevices: [phoneId],
    });
    expect(await unbindStatus(phoneId)).toEqual(["acknowledged"]);
    // The old phone can no longer pay; the laptop pays now, with no wait.
    const refused = await rejection(
      phone.approvePayment(await newPayment(), { cardId: phoneCard, pin: PIN, confirm: async () => true }),
    );
    expect(isPayApiError(refused, "device_not_active")).toBe(true);
    const { payment } = await laptop.approvePayment(await newPayment(), {
      cardId: recovered.card.id,
      pin: PIN,
      confirm: async () => true,
    });
    expect(payment.status).toBe("authorized");
  });

  it("a recovery with the card alone waits, announced; a device's word cannot stop it, and when it takes effect the others are revoked", async () => {
    const phone = await payerWithPhone("acct_recovery_wait");
    const phoneId = (await phone.thisDevice())!.id;
    const phoneCard = (await phone.cards())[0]!.id;
    const laptop = await device("acct_recovery_wait", "laptop");
    const recovered = await (await laptop.startRecovery(CARD, { deviceName: "Laptop" })).complete(
      await net.latestCode(CARD.phone),
    );
    expect(recovered).toMatchObject({ status: "pending", revokedDevices: [] });
    const [change] = await phone.pendingChanges();
    expect(change).toMatchObject({
      id: recovered.deviceId,
      kind: "recovery",
      revokesOtherDevices: true,
      deviceName: "Laptop",
    });
    // The phone's word alone (a thief holding it, without the PIN) cannot cancel the recovery.
    const client = new PayClient({
      baseUrl,
      sessionToken: (
        await net.pay.system.payers.openSession({ subject: "acct_recovery_wait", displayName: "x", phoneNumber: null })
      ).sessionToken.peek(),
    });
    expect(isPayApiError(await rejection(client.devices.cancel(recovered.deviceId, {})), "pin_proof_required")).toBe(
      true,
    );
    // Waiting, the laptop cannot pay; the phone still can.
    expect(
      isPayApiError(
        await rejection(
          laptop.approvePayment(await newPayment(), { cardId: recovered.card.id, pin: PIN, confirm: async () => true }),
        ),
        "device_not_active",
      ),
    ).toBe(true);

    clock.advance(WAIT_SECONDS + 1);
    // At once the phone counts as revoked; the maintenance task then makes it so, and the issuer unbinds it.
    expect(
      isPayApiError(
        await rejection(
          phone.approvePayment(await newPayment(), { cardId: phoneCard, pin: PIN, confirm: async () => true }),
        ),
        "device_not_active",
      ),
    ).toBe(true);
    expect(await net.pay.system.devices.applyDueRevocations()).toBe(1);
    expect(await unbindStatus(phoneId)).toEqual(["acknowledged"]);
    const { payment } = await laptop.approvePayment(await newPayment(), {
      cardId: recovered.card.id,
      pin: PIN,
      confirm: async () => true,
    });
    expect(payment.status).toBe("authorized");
  });

  it("a PIN proof cancels a pending recovery: nothing is left of it, and the revocations it scheduled are lifted", async () => {
    const phone = await payerWithPhone("acct_recovery_canceled", OTHER_CARD);
    // Someone with the messenger session, the card's details and the phone's messages tries; the payer has the PIN.
    const intruder = await device("acct_recovery_canceled", "intruder");
    const recovered = await (await intruder.startRecovery(OTHER_CARD, { deviceName: "Tablet" })).complete(
      await net.latestCode(OTHER_CARD.phone),
    );
    const left = await phone.cancelPendingChange({ id: recovered.deviceId, kind: "recovery" }, PIN);
    expect(left).toEqual([]);
    const [card] = await queryRows<{ status: string; wrapped_k_srv: string | null }>(
      net.pay.system.database.db,
      sql`select status, wrapped_k_srv from cards where id = ${recovered.card.id}`,
    );
    expect(card).toEqual({ status: "removed", wrapped_k_srv: null });
    expect(await unbindStatus(recovered.deviceId)).toEqual(["acknowledged"]);
    clock.advance(WAIT_SECONDS + 1);
    expect(await net.pay.system.devices.applyDueRevocations()).toBe(0);
    const { payment } = await phone.approvePayment(await newPayment(), {
      cardId: (await phone.cards()).find((c) => c.onThisDevice)!.id,
      pin: PIN,
      confirm: async () => true,
    });
    expect(payment.status).toBe("authorized");
  });

  it("another issuer check overrules a pending recovery", async () => {
    await payerWithPhone("acct_recovery_twice");
    const first = await device("acct_recovery_twice", "first");
    const pending = await (await first.startRecovery(CARD, { deviceName: "First" })).complete(
      await net.latestCode(CARD.phone),
    );
    const second = await device("acct_recovery_twice", "second");
    const later = await (await second.startRecovery(CARD, { deviceName: "Second" })).complete(
      await net.latestCode(CARD.phone),
    );
    expect(later.revokedDevices).toEqual([pending.deviceId]);
    const statuses = Object.fromEntries((await second.devices()).map((d) => [d.id, d.status]));
    expect([statuses[pending.deviceId], statuses[later.deviceId]]).toEqual(["canceled", "pending"]);
  });

  it("lets a payer who revoked every device (and so lost the cards on them) back in with a card they had", async () => {
    const phone = await payerWithPhone("acct_revoked_all");
    await phone.revokeDevice((await phone.thisDevice())!.id);
    const laptop = await device("acct_revoked_all", "laptop");
    const recovered = await (await laptop.startRecovery(CARD, { deviceName: "Laptop" })).complete(
      await net.latestCode(CARD.phone),
    );
    expect(recovered).toMatchObject({ status: "pending", card: { status: "active" } });
  });

  it("refuses a recovery for a payer with no card at that issuer, before anything reaches it", async () => {
    const newcomer = await device("acct_no_cards", "laptop");
    expect(
      isPayApiError(await rejection(newcomer.startRecovery(CARD, { deviceName: "Laptop" })), "recovery_not_possible"),
    ).toBe(true);
  });

  it("resets a locked PIN with the card and the waiting period, not before, and not with another card", async () => {
    const phone = await payerWithPhone("acct_reset_locked");
    for (let i = 0; i < 5; i++) expect(await phone.checkPin("999999").catch((e: unknown) => e)).not.toBe(true);
    expect(await phone.pinStatus()).toMatchObject({ locked: true });
    // A card that is not the payer's proves nothing; the reset is abandoned.
    const wrong = await phone.startPinReset(OTHER_CARD, NEW_PIN);
    expect(
      isPayApiError(await rejection(wrong.complete(await net.latestCode(OTHER_CARD.phone))), "recovery_not_possible"),
    ).toBe(true);

    const reset = await phone.startPinReset(CARD, NEW_PIN);
    const pending = await reset.complete(await net.latestCode(CARD.phone));
    expect(pending).toMatchObject({ status: "pending" });
    expect(await phone.pendingChanges()).toEqual([expect.objectContaining({ id: reset.resetId, kind: "pin_reset" })]);
    // Still locked while it waits.
    expect(await phone.pinStatus()).toMatchObject({ locked: true });
    clock.advance(WAIT_SECONDS + 1);
    expect(await phone.pinStatus()).toMatchObject({ locked: false, triesLeft: 5 });
    expect(await phone.checkPin(NEW_PIN)).toBe(true);
    expect((await net.pay.system.audit.verify()).ok).toBe(true);
  });

  it("a PIN proof cancels a PIN reset: whoever knows the PIN did not forget it", async () => {
    const phone = await payerWithPhone("acct_reset_canceled");
    // A second device of the payer's (say, a thief's phone with the card) asks for a reset.
    const reset = await phone.startPinReset(CARD, NEW_PIN);
    await reset.complete(await net.latestCode(CARD.phone));
    const [change] = await phone.pendingChanges();
    expect(await phone.cancelPendingChange(change!, PIN)).toEqual([]);
    clock.advance(WAIT_SECONDS + 1);
    expect(await phone.checkPin(PIN)).toBe(true);
    expect(await phone.checkPin(NEW_PIN)).toBe(false);
  });
});
