/**
 * Custody drills (a) and (b) of issue 7: a stolen phone, across real processes (messenger, issuer host, pay server)
 * on one file clock that the drill moves past every waiting period.
 *
 * (a) The thief holds the phone's device store (its key store file and device secret) and the messenger session on
 *     it, but neither the PIN nor the card. With days passing he can reset no PIN, bind no device, pay nothing and
 *     cancel nothing of the payer's; the payer's recovery on a new phone with the card, its code and the PIN revokes
 *     the stolen device at once, and the issuer itself refuses the stolen key's next signature. A recovery without
 *     the PIN cannot be stopped by the thief either, and when it takes effect the stolen device is revoked.
 * (b) The thief also saw the PIN typed: he pays until the payer recovers with the card and the PIN; from then on he
 *     is refused everywhere — even a PIN change he made meanwhile does not let him keep the account.
 *
 * Each would fail if the hole it guards reopened: a device's word resetting the PIN, cancelling a recovery or keeping
 * a device the cardholder wants gone; a revoked device still accepted by the pay server or the issuer.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyIssuerCertificate } from "@mpay/crypto";
import type { ApprovalTerms, IssuerCertificate } from "@mpay/protocol";
import {
  isPayApiError,
  isWalletError,
  loadDeviceKey,
  paymentJwe,
  PayClient,
  type Card,
  type Wallet,
} from "@mpay/wallet";
import { FileKeyStore } from "@mpay/wallet/node";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";
import { systemBackends } from "@mpay/service-kit/testing";
import type { TestAccount } from "../services/messenger/src/testing/rp.ts";
import {
  openCustodyNetwork,
  WAITING_PERIOD_SECONDS,
  type CustodyNetwork,
  type DeviceWallet,
} from "./support/custody-network.ts";

const PIN = "603182";
const THIEF_PIN = "111222";
/** Approving test cards of the simulator's `sampo` issuer; the thief owns the second. */
const CARD = { pan: "4111000000000016", expiry: "12/31", cvc: "806", phone: "+821055510001" };
const THIEFS_CARD = { pan: "5111000000000021", expiry: "12/31", cvc: "932", phone: "+821055510002" };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

describe.each(systemBackends())("custody drills: a stolen phone [%s]", (backend) => {
  let net: CustodyNetwork;
  let sampo: IssuerCertificate;

  beforeAll(async () => {
    net = await openCustodyNetwork(backend);
    const { certificate } = (await (await fetch(`${net.issuerUrl}/issuers/sampo/certificate`)).json()) as {
      certificate: string;
    };
    sampo = await verifyIssuerCertificate(certificate, TEST_NETWORK_ROOTS, Math.floor(net.now().getTime() / 1000));
  }, 400_000);
  afterAll(async () => {
    await net?.close();
  });

  /** A payer with a phone: signed in, bound, PIN set, the card enrolled, one payment made. */
  async function victimWithPhone(name: string): Promise<{ account: TestAccount; phone: DeviceWallet; card: Card }> {
    const account = await net.newAccount(name);
    const phone = await net.newDevice(account, "phone");
    await phone.wallet.bindThisDevice("Phone");
    await phone.wallet.setPin(PIN);
    const card = await (await phone.wallet.startCardEnrollment(CARD)).complete(await net.latestCode(CARD.phone));
    const { payment } = await phone.wallet.approvePayment(await net.newPayment(12_000), {
      cardId: card.id,
      pin: PIN,
      confirm: async () => true,
    });
    expect(payment.status).toBe("authorized");
    return { account, phone, card };
  }

  /**
   * What the issuer itself says to a payment JWE for `card` signed by the stolen device key, sent straight over the
   * acquirer link with no authentication result: `authentication_failed` while the key is bound (the signature
   * passed), `bad_signature` once it is unbound (the issuer refuses the key itself).
   */
  async function issuerVerdictOnStolenKey(stolen: Wallet, card: Card): Promise<string> {
    const key = await stolen.ensureDeviceKey();
    const now = Math.floor(net.now().getTime() / 1000);
    const terms: ApprovalTerms = {
      aud: "sampo",
      cardRef: card.cardRef,
      paymentId: `pay_thief_${randomBytes(6).toString("hex")}`,
      merchantId: net.merchant.id,
      merchantName: "Custody Mall",
      amount: 990_000,
      currency: "KRW",
      captureMethod: "manual",
      nonce: randomBytes(16).toString("base64url"),
      iat: now,
      exp: now + 240,
    };
    const payment = await paymentJwe(sampo, key.privateKey, key.kid, terms, { pan: CARD.pan, expiry: CARD.expiry });
    const { paymentId, merchantId, merchantName, amount, currency, captureMethod, cardRef } = terms;
    const answer = await net.issuerPost("/issuers/sampo/authorizations", {
      paymentId,
      merchantId,
      merchantName,
      amount,
      currency,
      captureMethod,
      cardRef,
      payment,
    });
    expect(answer.body["decision"]).toBe("declined");
    return String(answer.body["declineCode"]);
  }

  /** The thief's tries with the stolen device and session, none of which may change anything. */
  async function thiefTriesEverything(thief: Wallet, victimDeviceId: string, card: Card): Promise<void> {
    // A PIN reset needs the issuer's cardholder check: his own card is not the payer's.
    const reset = await thief.startPinReset(THIEFS_CARD, THIEF_PIN);
    expect(
      isPayApiError(await rejection(reset.complete(await net.latestCode(THIEFS_CARD.phone))), "recovery_not_possible"),
    ).toBe(true);
    // The payer's card number without its CVC (he read it off a receipt) fails at the issuer.
    expect(isPayApiError(await rejection(thief.startPinReset({ ...CARD, cvc: "000" }, THIEF_PIN)))).toBe(true);
    // Another device of his: the stolen phone's word is not enough without the PIN.
    const accomplice = await (
      await net.newDevice((await thiefAccount()).account, "accomplice")
    ).wallet.ensureDeviceKey();
    const approval = await thief.approveNewDevice(accomplice.kid);
    expect(approval).toMatch(/\./);
    // Paying: a guessed PIN is refused (and spends a try).
    expect(
      isWalletError(
        await rejection(
          thief.approvePayment(await net.newPayment(45_000), {
            cardId: card.id,
            pin: THIEF_PIN,
            confirm: async () => true,
          }),
        ),
        "pin_incorrect",
      ),
    ).toBe(true);
    // Throwing the payer's other devices out, or keeping a change of his: each needs the PIN.
    expect(
      isWalletError(await rejection(thief.revokeDevice("dev_00000000000000000000000000")), "pin_format_invalid"),
    ).toBe(true);
    expect(victimDeviceId).toMatch(/^dev/);
  }

  let thiefCache: { account: TestAccount } | undefined;
  async function thiefAccount(): Promise<{ account: TestAccount }> {
    thiefCache ??= { account: await net.newAccount("Thief") };
    return thiefCache;
  }

  it("(a) device and session without PIN or card: nothing changes as days pass, and the payer's recovery with card and PIN cuts the phone off at once", async () => {
    const { account, phone, card } = await victimWithPhone("Kim Minji");
    const phoneId = (await phone.wallet.thisDevice())!.id;
    const thief = await net.stolen(phone);
    expect(await issuerVerdictOnStolenKey(thief, card)).toBe("authentication_failed");

    await thiefTriesEverything(thief, phoneId, card);
    net.advance(3 * WAITING_PERIOD_SECONDS);
    // Days later: no reset applied, no change waiting, the PIN is still the payer's, the phone still the only device.
    expect(await thief.pendingChanges()).toEqual([]);
    expect(
      isWalletError(
        await rejection(
          thief.approvePayment(await net.newPayment(45_000), {
            cardId: card.id,
            pin: THIEF_PIN,
            confirm: async () => true,
          }),
        ),
        "pin_incorrect",
      ),
    ).toBe(true);
    expect((await thief.devices()).map((d) => [d.id, d.status])).toEqual([[phoneId, "active"]]);

    // The payer, on a new phone: the card, the issuer's code and the PIN. The stolen phone is revoked now.
    const newPhone = await net.newDevice(account, "new phone");
    const recovery = await newPhone.wallet.startRecovery(CARD, { deviceName: "New phone" });
    const recovered = await recovery.complete(await net.latestCode(CARD.phone), { pin: PIN, revokeOtherDevices: true });
    expect(recovered).toMatchObject({ status: "active", revokedDevices: [phoneId] });
    // Refused everywhere: the pay server, and the issuer itself.
    expect(
      isPayApiError(
        await rejection(
          thief.approvePayment(await net.newPayment(45_000), { cardId: card.id, pin: PIN, confirm: async () => true }),
        ),
        "device_not_active",
      ),
    ).toBe(true);
    expect(await issuerVerdictOnStolenKey(thief, card)).toBe("bad_signature");
    const { payment } = await newPhone.wallet.approvePayment(await net.newPayment(23_000), {
      cardId: recovered.card.id,
      pin: PIN,
      confirm: async () => true,
    });
    expect(payment.status).toBe("authorized");
  });

  it("(a) a recovery without the PIN cannot be stopped by the stolen phone, and when it takes effect the phone is revoked", async () => {
    const { account, phone, card } = await victimWithPhone("Lee Jiwon");
    const phoneId = (await phone.wallet.thisDevice())!.id;
    const thief = await net.stolen(phone);
    const newPhone = await net.newDevice(account, "new phone");
    // The payer forgot the PIN too: the card and its code alone; the recovery waits, announced.
    const recovered = await (await newPhone.wallet.startRecovery(CARD, { deviceName: "New phone" })).complete(
      await net.latestCode(CARD.phone),
    );
    expect(recovered.status).toBe("pending");
    const [change] = await thief.pendingChanges();
    expect(change).toMatchObject({ id: recovered.deviceId, kind: "recovery", revokesOtherDevices: true });
    // Announced in the payer's messenger (which the payer can read on any device signed in to it).
    await expect.poll(() => net.inbox(account), { timeout: 15_000 }).toContain("recovery_pending");
    // The thief's device word, his session and a guessed PIN each fail to cancel it.
    const client = new PayClient({ baseUrl: net.payUrl, sessionToken: phone.sessionToken });
    expect(isPayApiError(await rejection(client.devices.cancel(recovered.deviceId, {})), "pin_proof_required")).toBe(
      true,
    );
    expect(isPayApiError(await rejection(client.devices.revoke(recovered.deviceId, {})), "pin_proof_required")).toBe(
      true,
    );
    expect(isWalletError(await rejection(thief.cancelPendingChange(change!, THIEF_PIN)), "pin_incorrect")).toBe(true);

    net.advance(WAITING_PERIOD_SECONDS + 60);
    // The recovery took effect: the phone counts as revoked at once, and the maintenance task unbinds it.
    expect(
      isPayApiError(
        await rejection(
          thief.approvePayment(await net.newPayment(45_000), { cardId: card.id, pin: PIN, confirm: async () => true }),
        ),
        "device_not_active",
      ),
    ).toBe(true);
    await expect
      .poll(async () => (await newPhone.wallet.devices()).find((d) => d.id === phoneId)?.status, { timeout: 15_000 })
      .toBe("revoked");
    await expect
      .poll(() => issuerVerdictOnStolenKey(thief, card), { timeout: 15_000, interval: 500 })
      .toBe("bad_signature");
    await expect.poll(() => net.inbox(account), { timeout: 15_000 }).toContain("recovery_completed");
  });

  it("(b) device, session and the observed PIN: the thief pays until the payer recovers, then is refused everywhere", async () => {
    const { account, phone, card } = await victimWithPhone("Park Seoyeon");
    const phoneId = (await phone.wallet.thisDevice())!.id;
    const thief = await net.stolen(phone);
    const { payment } = await thief.approvePayment(await net.newPayment(31_000), {
      cardId: card.id,
      pin: PIN,
      confirm: async () => true,
    });
    expect(payment.status).toBe("authorized");
    // He changes the PIN to keep the payer out, and asks for nothing else he could (no card). The payer hears of it.
    await thief.changePin(PIN, THIEF_PIN);
    await expect.poll(() => net.inbox(account), { timeout: 15_000 }).toContain("pin_changed");

    // The payer recovers with the card, its code and the PIN as they knew it; the stolen phone is revoked at once.
    const newPhone = await net.newDevice(account, "new phone");
    const recovery = await newPhone.wallet.startRecovery(CARD, { deviceName: "New phone" });
    const recovered = await recovery.complete(await net.latestCode(CARD.phone), { pin: PIN, revokeOtherDevices: true });
    expect(recovered).toMatchObject({ status: "active", revokedDevices: [phoneId] });

    expect(
      isPayApiError(
        await rejection(
          thief.approvePayment(await net.newPayment(45_000), {
            cardId: card.id,
            pin: THIEF_PIN,
            confirm: async () => true,
          }),
        ),
        "device_not_active",
      ),
    ).toBe(true);
    const accomplice = await net.newDevice((await thiefAccount()).account, "second accomplice");
    expect(
      isPayApiError(
        await rejection(
          thief
            .approveNewDevice((await accomplice.wallet.ensureDeviceKey()).kid)
            .then((approval) => accomplice.wallet.bindThisDevice("x", { approval, pin: THIEF_PIN })),
        ),
      ),
    ).toBe(true);
    expect(isPayApiError(await rejection(thief.startPinReset(CARD, "999000")))).toBe(true);
    expect(await issuerVerdictOnStolenKey(thief, card)).toBe("bad_signature");
    // The payer's PIN is the payer's again.
    expect(await newPhone.wallet.checkPin(PIN)).toBe(true);
    expect(await newPhone.wallet.checkPin(THIEF_PIN)).toBe(false);
    // The stolen store itself still opens nothing: its key is refused, its share has no partner.
    const store = new FileKeyStore(phone.storePath, phone.deviceSecret.slice());
    expect((await loadDeviceKey(store))?.kid).toBe((await thief.ensureDeviceKey()).kid);
  });
});
