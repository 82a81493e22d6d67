/**
 * The passkey's sign counter as the decision statement (store.ts `insertDeviceDecision`) writes it: only forward.
 * Two approvals by one passkey can both be verified against the same stored counter (authentication.ts reads it
 * before the decision); whichever is written last must not take the counter back, and one whose counter is no
 * longer ahead is refused as the WebAuthn check refuses a replay (passkey-assertion.ts), with no hold taken.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDatabase, testBackends, type FreshDatabase } from "@mpay/service-kit/testing";
import { cardByRef, insertCards } from "../cards/store.ts";
import { openIssuerDatabase, type Database } from "../db/client.ts";
import { activePasskey, bindDevice, bindPasskeys, unbindDevice } from "../devices/store.ts";
import { insertDeviceDecision, type NewAuthorization } from "./store.ts";

describe.each(testBackends())("the passkey counter of a decision [%s]", (backend) => {
  let fresh: FreshDatabase;
  let database: Database;
  const now = new Date(Date.UTC(2026, 11, 4, 12));
  let serial = 0;

  beforeAll(async () => {
    fresh = await freshDatabase(backend, "issuer_test");
    database = await openIssuerDatabase({ issuerId: "sampo", url: fresh.url, dataDir: undefined, poolSize: 4 });
  });
  afterAll(async () => {
    await database?.close();
    await fresh?.drop();
  });

  /** A card with 100,000 open to buy, its device and one passkey bound with counter 0. */
  async function cardWithPasskey(): Promise<{ cardRef: string; deviceKid: string; credentialId: string }> {
    serial += 1;
    const cardRef = `card_counter_${serial}`;
    const deviceKid = `kid_counter_${serial}`;
    const credentialId = `passkey_counter_${serial}`;
    await insertCards(database.db, [
      {
        cardRef,
        pan: `40000000000000${String(serial).padStart(2, "0")}`,
        brand: "visa",
        expiryMonth: "2030-12",
        holderName: "Counter Test",
        phone: "+358401234567",
        currency: "EUR",
        creditLimit: 100_000,
        openToBuy: 100_000,
        status: "active",
      },
    ]);
    const binding = await bindDevice(database.db, {
      id: `bnd_counter_${serial}`,
      cardRef,
      deviceKid,
      deviceJwk: { kty: "EC", crv: "P-256", x: "x", y: "y" },
      payerRef: "payer",
      boundAt: now,
    });
    await bindPasskeys(database.db, cardRef, binding.id, [{ id: credentialId, publicKey: "cose" }], now);
    return { cardRef, deviceKid, credentialId };
  }

  /** An approved passkey payment of 1,000 as the host reaches it before the claims, written with its counter. */
  function decide(key: { cardRef: string; deviceKid: string; credentialId: string }, signCount: number) {
    serial += 1;
    const paymentId = `pay_counter_${serial}`;
    const row: NewAuthorization = {
      paymentId,
      cardRef: key.cardRef,
      kind: "device",
      deviceKid: key.deviceKid,
      authMethod: "passkey",
      recurringTokenId: null,
      merchantId: "mer_counter",
      merchantName: "Counter Shop",
      amount: 1_000,
      currency: "EUR",
      billingCurrency: "EUR",
      billingAmount: 1_000,
      fxRate: "1",
      fxFeeBps: 0,
      captureMethod: "automatic",
      decision: "approved",
      declineCode: null,
      authorizationCode: "A12345",
      status: "approved",
      holdAmount: 1_000,
      decidedAt: now,
    };
    return insertDeviceDecision(database.db, row, {
      nonce: { deviceKid: key.deviceKid, nonce: `nonce_${serial}`, expiresAt: new Date(now.getTime() + 300_000) },
      hold: { cardRef: key.cardRef, amount: 1_000 },
      passkeyCounter: { cardRef: key.cardRef, credentialId: key.credentialId, signCount },
    });
  }

  const storedCounter = async (key: { cardRef: string; credentialId: string }) =>
    (await activePasskey(database.db, key.cardRef, key.credentialId))?.signCount;
  const openToBuy = async (cardRef: string) => (await cardByRef(database.db, cardRef))?.openToBuy;

  it("keeps the higher counter when a lower one is written after it, and refuses the lower one as a replay", async () => {
    const key = await cardWithPasskey();
    const higher = await decide(key, 5);
    expect(higher).toMatchObject({ decision: "approved", status: "approved", declineCode: null, holdAmount: 1_000 });
    expect(await storedCounter(key)).toBe(5);

    const lower = await decide(key, 3);
    expect(lower).toMatchObject({
      decision: "declined",
      status: "declined",
      declineCode: "authentication_failed",
      authorizationCode: null,
      holdAmount: 0,
    });
    expect(await storedCounter(key)).toBe(5);
    // The same counter again is no move forward either.
    expect((await decide(key, 5)).declineCode).toBe("authentication_failed");
    expect(await storedCounter(key)).toBe(5);
    expect(await openToBuy(key.cardRef)).toBe(100_000 - 1_000);

    expect(await decide(key, 6)).toMatchObject({ decision: "approved" });
    expect(await storedCounter(key)).toBe(6);
  });

  it("lets an authenticator that keeps no counter (0 every time) approve while the stored counter is 0", async () => {
    const key = await cardWithPasskey();
    expect((await decide(key, 0)).decision).toBe("approved");
    expect((await decide(key, 0)).decision).toBe("approved");
    expect(await storedCounter(key)).toBe(0);
    expect(await decide(key, 1)).toMatchObject({ decision: "approved" });
    expect((await decide(key, 0)).declineCode).toBe("authentication_failed");
    expect(await storedCounter(key)).toBe(1);
  });

  it("ends at the highest of concurrent counters, and approves the highest whatever the order", async () => {
    const key = await cardWithPasskey();
    const decisions = await Promise.all([decide(key, 7), decide(key, 9), decide(key, 8)]);
    expect(await storedCounter(key)).toBe(9);
    expect(decisions[1]).toMatchObject({ decision: "approved" });
    const approved = decisions.filter((d) => d.decision === "approved").length;
    for (const d of decisions.filter((d) => d.decision === "declined"))
      expect(d).toMatchObject({ declineCode: "authentication_failed", holdAmount: 0 });
    expect(await openToBuy(key.cardRef)).toBe(100_000 - approved * 1_000);
  });

  it("reads a live passkey with its binding, and none once its device is unbound", async () => {
    const key = await cardWithPasskey();
    expect(await activePasskey(database.db, key.cardRef, key.credentialId)).toEqual({
      cardRef: key.cardRef,
      credentialId: key.credentialId,
      bindingId: expect.stringMatching(/^bnd_counter_/),
      publicKey: "cose",
      signCount: 0,
      boundAt: now,
      unboundAt: null,
    });
    expect(await activePasskey(database.db, key.cardRef, "no such passkey")).toBeNull();
    await unbindDevice(database.db, key.deviceKid, now);
    expect(await activePasskey(database.db, key.cardRef, key.credentialId)).toBeNull();
  });
});
