/**
 * A payer who lost every device recovers through the issuer's cardholder check (issue 3, "Binding and recovery";
 * issue 4, deliverable 1): the messenger sign-in alone binds nothing, but a new device that proves one of the
 * payer's cards again at its issuer — PAN, expiry, CVC and the code the issuer texts to the phone on file — is bound
 * `pending` for the waiting period, visible to (and cancelable by) the payer's other devices, and pays once it ends.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPayApiError, PayClient, Wallet } from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { openTestNetwork, type TestNetwork } from "../testing/network.ts";
import { call, paymentBody } from "../testing/system.ts";
import { TEST_NETWORK_ROOTS } from "@mpay/wallet/testing";

const PIN = "305718";
const WAIT_SECONDS = 2;
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

describe.each(testBackends())("recovery of a payer who lost every device [%s]", (backend) => {
  let net: TestNetwork;
  let folder: string;
  let baseUrl: string;

  beforeAll(async () => {
    net = await openTestNetwork(backend, { pay: { deviceWaitingPeriodSeconds: WAIT_SECONDS } });
    baseUrl = await net.pay.app.listen({ host: "127.0.0.1", port: 0 });
    folder = await mkdtemp(join(tmpdir(), "mpay-recovery-"));
  });
  afterAll(async () => {
    await net?.close();
    await rm(folder, { recursive: true, force: true });
  });

  /** A wallet on a new device, signed in through the messenger as `subject` (a session of its own). */
  async function device(subject: string, name: string): Promise<Wallet> {
    const session = await net.pay.system.payers.openSession({ subject, displayName: "Park Seoyeon", phoneNumber: null });
    return new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore: new FileKeyStore(join(folder, `${subject}-${name}.json`), FileKeyStore.newDeviceSecret()),
      client: new PayClient({ baseUrl, sessionToken: session.sessionToken.peek() }),
      keyStretching: "memory-constrained",
    });
  }

  it("binds a new device pending on the issuer's word for one of the payer's cards, lets the payer's devices cancel it, and lets it pay once the wait is over", async () => {
    const subject = "acct_recovery";
    const phone = await device(subject, "phone");
    await phone.bindThisDevice("Phone");
    await phone.setPin(PIN);
    await (await phone.startCardEnrollment(CARD)).complete(await net.latestCode(CARD.phone));

    // The phone is lost. A new laptop: the messenger sign-in alone binds nothing.
    const laptop = await device(subject, "laptop");
    expect(isPayApiError(await rejection(laptop.bindThisDevice("Laptop")), "device_approval_required")).toBe(true);

    // A card the payer never enrolled here proves nothing about this account.
    const stranger = await laptop.startRecovery(OTHER_CARD, { deviceName: "Laptop" });
    expect(isPayApiError(await rejection(stranger.complete(await net.latestCode(OTHER_CARD.phone))), "recovery_not_possible")).toBe(true);

    // One of the payer's own cards, and the code from the phone on file: bound pending, with the card on it.
    const recovery = await laptop.startRecovery(CARD, { deviceName: "Laptop" });
    expect(recovery).toMatchObject({ issuerId: "sampo" });
    const recovered = await recovery.complete(await net.latestCode(CARD.phone));
    expect(recovered).toMatchObject({ status: "pending", card: { status: "active", last4: "0016" } });
    expect(Date.parse(recovered.activatesAt) - Date.now()).toBeGreaterThan(0);
    // The payer's other devices see it (had the phone only been mislaid, it could cancel this).
    expect((await phone.pendingDevices()).map((d) => d.id)).toEqual([recovered.deviceId]);
    // Waiting, it cannot pay.
    const early = await call<{ id: string }>(net.pay.app, "POST", "/v1/payments", net.pay.merchant.secretKey, paymentBody({ amount: 8000 }));
    expect(isPayApiError(await rejection(laptop.approvePayment(early.body.id, { cardId: recovered.card.id, pin: PIN, confirm: async () => true })), "device_not_active")).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, WAIT_SECONDS * 1000 + 300));
    const { payment } = await laptop.approvePayment(early.body.id, { cardId: recovered.card.id, pin: PIN, confirm: async () => true });
    expect(payment).toMatchObject({ status: "authorized" });
  });

  it("a recovery one of the payer's devices cancels leaves nothing behind: no device, no card share, the issuer unbinds it", async () => {
    const subject = "acct_recovery_canceled";
    const phone = await device(subject, "phone");
    await phone.bindThisDevice("Phone");
    await phone.setPin(PIN);
    await (await phone.startCardEnrollment(OTHER_CARD)).complete(await net.latestCode(OTHER_CARD.phone));
    // Someone with the messenger session and the card's details and phone tries; the payer's phone is in hand.
    const intruder = await device(subject, "intruder");
    const recovered = await (await intruder.startRecovery(OTHER_CARD, { deviceName: "Tablet" })).complete(await net.latestCode(OTHER_CARD.phone));
    expect((await phone.cancelPendingDevice(recovered.deviceId)).status).toBe("canceled");
    const [card] = await queryRows<{ status: string; wrapped_k_srv: string | null }>(net.pay.system.database.db, sql`select status, wrapped_k_srv from cards where id = ${recovered.card.id}`);
    expect(card).toEqual({ status: "removed", wrapped_k_srv: null });
    const [unbind] = await queryRows<{ status: string }>(net.pay.system.database.db, sql`select status from device_unbinds where device_id = ${recovered.deviceId}`);
    expect(unbind?.status).toBe("acknowledged");
  });

  it("lets a payer who revoked every device (and so lost the cards on them) back in with a card they had", async () => {
    const subject = "acct_revoked_all";
    const phone = await device(subject, "phone");
    await phone.bindThisDevice("Phone");
    await phone.setPin(PIN);
    await (await phone.startCardEnrollment(CARD)).complete(await net.latestCode(CARD.phone));
    await phone.revokeDevice((await phone.thisDevice())!.id);
    expect(await phone.cards().catch(() => [])).toEqual([]);
    const laptop = await device(subject, "laptop");
    const recovered = await (await laptop.startRecovery(CARD, { deviceName: "Laptop" })).complete(await net.latestCode(CARD.phone));
    expect(recovered).toMatchObject({ status: "pending", card: { status: "active" } });
  });

  it("refuses a recovery for a payer with no card at that issuer, before anything reaches it", async () => {
    const newcomer = await device("acct_no_cards", "laptop");
    expect(isPayApiError(await rejection(newcomer.startRecovery(CARD, { deviceName: "Laptop" })), "recovery_not_possible")).toBe(true);
  });
});
