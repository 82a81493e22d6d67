import "fake-indexeddb/auto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApprovalTerms } from "@mpay/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testBackends } from "@mpay/service-kit/testing";
import { isPayApiError, isWalletError, PayApiError, WalletError } from "./errors.ts";
import { FileKeyStore } from "./file-key-store.ts";
import { IndexedDbKeyStore } from "./indexed-db-key-store.ts";
import type { PinKeyStretching } from "./pin.ts";
import { listeningTestPay, type ListeningPay } from "@mpay/testing/pay-server";
import { Wallet } from "./wallet.ts";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";

const keyStretching: PinKeyStretching = "memory-constrained";
const PIN = "604817";
const NEW_PIN = "319275";
const WRONG_PIN = "604818";
const TERMS_FIELDS = [
  "aud",
  "amount",
  "captureMethod",
  "cardRef",
  "currency",
  "exp",
  "iat",
  "merchantId",
  "merchantName",
  "nonce",
  "paymentId",
];

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

let folder = "";
let files = 0;
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), "mpay-wallet-"));
});
afterAll(() => rm(folder, { recursive: true, force: true }));
const fileStore = () =>
  new FileKeyStore(join(folder, `wallet-${++files}`, "keys.json"), FileKeyStore.newDeviceSecret());

describe.each(testBackends())("Wallet against the pay server [%s]", (backend) => {
  let server: ListeningPay;

  beforeAll(async () => {
    server = await listeningTestPay(backend);
  });
  afterAll(() => server?.close());

  /** A wallet on a fresh device, signed in as the payer of `subject` (a new payer by default). */
  async function newWallet(subject?: string, keyStore: FileKeyStore | IndexedDbKeyStore = fileStore()) {
    const session = await server.signedInClient(subject);
    return {
      wallet: new Wallet({ trustedRoots: TEST_NETWORK_ROOTS, keyStore, client: session.client, keyStretching }),
      keyStore,
      ...session,
    };
  }

  /** A payer's first device, bound, with the PIN set and a test card enrolled on it. */
  async function readyWallet() {
    const phone = await newWallet();
    await phone.wallet.bindThisDevice("Phone");
    await phone.wallet.setPin(PIN);
    const card = await server.enrollCard(phone.wallet);
    return { ...phone, card, cardId: card.id };
  }

  it("makes one device key per device, binds it as the first device, and sets, checks and changes the PIN", async () => {
    const { wallet, keyStore, client, payerId } = await newWallet();
    const [a, b] = await Promise.all([wallet.ensureDeviceKey(), wallet.ensureDeviceKey()]);
    expect(a.kid).toBe(b.kid);
    // Another wallet on the same store (the app restarted) finds the same key.
    expect((await new Wallet({ trustedRoots: TEST_NETWORK_ROOTS, keyStore, client }).ensureDeviceKey()).kid).toBe(
      a.kid,
    );
    expect(a.privateKey.extractable).toBe(false);
    expect(await wallet.thisDevice()).toBeUndefined();

    const device = await wallet.bindThisDevice("Phone");
    expect(device).toMatchObject({ name: "Phone", status: "active", keyThumbprint: a.kid });
    expect((await wallet.thisDevice())?.id).toBe(device.id);
    expect((await wallet.payer()).id).toBe(payerId);

    expect(await wallet.setPin(PIN)).toMatchObject({ set: true, locked: false, triesLeft: 5 });
    expect(await wallet.checkPin(PIN)).toBe(true);
    expect(await wallet.checkPin(WRONG_PIN)).toBe(false);
    expect(await wallet.pinStatus()).toMatchObject({ triesLeft: 4 });

    const wrongCurrent = await rejection(wallet.changePin(WRONG_PIN, NEW_PIN));
    expect(isWalletError(wrongCurrent, "pin_incorrect")).toBe(true);
    expect((wrongCurrent as Error).message).toMatch(/3 tries left/);
    expect((wrongCurrent as Error).message).not.toContain(WRONG_PIN);

    expect(await wallet.changePin(PIN, NEW_PIN)).toMatchObject({ set: true, triesLeft: 5 });
    expect(await wallet.checkPin(PIN)).toBe(false);
    expect(await wallet.checkPin(NEW_PIN)).toBe(true);
    // A malformed PIN is refused on the device, before any try is spent.
    expect(isWalletError(await rejection(wallet.checkPin("12345")), "pin_format_invalid")).toBe(true);
    expect(await wallet.pinStatus()).toMatchObject({ triesLeft: 5 });
  });

  it("pays with the PIN after the payer confirms exactly the server's terms; the issuer authorizes it", async () => {
    const { wallet, card, cardId } = await readyWallet();
    const paymentId = await server.newPayment({ amount: 35000 });
    const shown: Array<Readonly<ApprovalTerms>> = [];
    let pinAskedAfterConfirm = false;
    const { approval, payment } = await wallet.approvePayment(paymentId, {
      cardId,
      pin: async () => {
        pinAskedAfterConfirm = shown.length === 1;
        return PIN;
      },
      confirm: async (terms) => {
        shown.push(terms);
        return true;
      },
    });
    expect(approval).toMatchObject({ object: "payment_approval", paymentId, method: "pin" });
    expect(pinAskedAfterConfirm).toBe(true);
    const [terms] = shown;
    expect(Object.keys(terms!).sort()).toEqual(TERMS_FIELDS.sort());
    expect(terms).toMatchObject({
      paymentId,
      merchantId: server.pay.merchant.id,
      merchantName: "Test Shop",
      amount: 35000,
      currency: "KRW",
      aud: "sampo",
      cardRef: card.cardRef,
    });
    expect(Object.isFrozen(terms)).toBe(true);
    expect(payment).toMatchObject({ id: paymentId, status: "authorized" });
    expect(await server.paymentStatus(paymentId)).toBe("authorized");
    expect(await wallet.pinStatus()).toMatchObject({ triesLeft: 5 });
  });

  it("spends no PIN try when the payer declines, one for a wrong PIN, and approves afterwards", async () => {
    const { wallet, cardId } = await readyWallet();
    const card = { cardId };
    const paymentId = await server.newPayment({ amount: 4900 });

    const declined = await rejection(
      wallet.approvePayment(paymentId, { ...card, pin: PIN, confirm: async () => false }),
    );
    expect(isWalletError(declined, "approval_declined")).toBe(true);
    expect(await wallet.pinStatus()).toMatchObject({ triesLeft: 5 });

    const wrong = await rejection(
      wallet.approvePayment(paymentId, { ...card, pin: WRONG_PIN, confirm: async () => true }),
    );
    expect(isWalletError(wrong, "pin_incorrect")).toBe(true);
    expect(await wallet.pinStatus()).toMatchObject({ triesLeft: 4 });

    const malformed = await rejection(
      wallet.approvePayment(paymentId, { ...card, pin: "60481", confirm: async () => true }),
    );
    expect(isWalletError(malformed, "pin_format_invalid")).toBe(true);

    expect(
      (await wallet.approvePayment(paymentId, { ...card, pin: PIN, confirm: async () => true })).approval,
    ).toMatchObject({ paymentId });
    expect(await wallet.pinStatus()).toMatchObject({ triesLeft: 5 });
  });

  it("binds a second device only on a bound device's word and the PIN; it waits, cannot pay, and the PIN cancels it", async () => {
    const phone = await readyWallet();
    // The same payer on a browser: another session, another key store (IndexedDB, non-extractable keys).
    const laptop = await newWallet(
      phone.subject,
      new IndexedDbKeyStore({ databaseName: `mpay-wallet-laptop-${backend}` }),
    );

    const alone = await rejection(laptop.wallet.bindThisDevice("Laptop"));
    expect(isPayApiError(alone, "device_approval_required")).toBe(true);
    expect((alone as PayApiError).statusCode).toBe(403);

    const laptopKey = await laptop.wallet.ensureDeviceKey();
    expect(laptopKey.privateKey.extractable).toBe(false);
    const approval = await phone.wallet.approveNewDevice(laptopKey.kid);
    // The phone's word alone binds nothing: the payer's PIN goes with it.
    expect(
      isWalletError(
        await rejection(laptop.wallet.bindThisDevice("Laptop", { approval, pin: "12345" })),
        "pin_format_invalid",
      ),
    ).toBe(true);
    const pending = await laptop.wallet.bindThisDevice("Laptop", { approval, pin: PIN });
    expect(pending).toMatchObject({ status: "pending", name: "Laptop" });

    // Waiting, it cannot enroll a card (and so cannot pay).
    const tooEarly = await rejection(server.enrollCard(laptop.wallet));
    expect(isPayApiError(tooEarly, "device_not_active")).toBe(true);

    const changes = await phone.wallet.pendingChanges();
    expect(changes.map((c) => [c.id, c.kind, c.deviceName])).toEqual([[pending.id, "device", "Laptop"]]);
    // Cancelling takes the PIN: a wrong one spends a try and cancels nothing.
    expect(
      isWalletError(await rejection(phone.wallet.cancelPendingChange(changes[0]!, "000000")), "pin_incorrect"),
    ).toBe(true);
    expect(await phone.wallet.cancelPendingChange(changes[0]!, PIN)).toEqual([]);
    expect((await laptop.wallet.thisDevice())?.status).toBe("canceled");

    for (const bad of ["not-a-key-id", (await phone.wallet.ensureDeviceKey()).kid]) {
      expect(isWalletError(await rejection(phone.wallet.approveNewDevice(bad)), "device_key_id_invalid")).toBe(true);
    }
  });

  it("revokes a device: its next approval is refused", async () => {
    const { wallet, cardId } = await readyWallet();
    const card = { cardId };
    const device = (await wallet.thisDevice())!;
    expect((await wallet.revokeDevice(device.id)).status).toBe("revoked");
    const refused = await rejection(
      wallet.approvePayment(await server.newPayment(), { ...card, pin: PIN, confirm: async () => true }),
    );
    expect(isPayApiError(refused, "device_not_active")).toBe(true);
  });

  it("signs nothing, and shows nothing, when the terms are not for the payment and card it asked about", async () => {
    const phone = await readyWallet();
    const card = { cardId: phone.cardId };
    const paymentId = await server.newPayment();
    // The same device and payer, through a pay server that swaps the card in the terms it returns.
    const swapCard: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith("/approval-challenges")) return response;
      const body = (await response.json()) as { terms: ApprovalTerms };
      body.terms.cardRef = "card_of_someone_else";
      return new Response(JSON.stringify(body), {
        status: response.status,
        headers: { "content-type": "application/json" },
      });
    };
    const { client } = await server.signedInClient(phone.subject, swapCard);
    const wallet = new Wallet({ trustedRoots: TEST_NETWORK_ROOTS, keyStore: phone.keyStore, client, keyStretching });
    let shown = false;
    const error = await rejection(
      wallet.approvePayment(paymentId, { ...card, pin: PIN, confirm: async () => (shown = true) }),
    );
    expect(isWalletError(error, "terms_mismatch")).toBe(true);
    expect(shown).toBe(false);
    expect(await wallet.pinStatus()).toMatchObject({ triesLeft: 5 });
  });

  it("says so when this device has no key yet", async () => {
    const { wallet } = await newWallet();
    const card = { cardId: "card_01JXXXXXXXXXXXXXXXXXXXXXXX" };
    const paymentId = await server.newPayment();
    for (const attempt of [
      () => wallet.approveNewDevice("A".repeat(43)),
      () => wallet.approvePayment(paymentId, { ...card, pin: PIN, confirm: async () => true }),
    ]) {
      const error = await rejection(attempt());
      expect(error).toBeInstanceOf(WalletError);
      expect((error as WalletError).code).toBe("device_key_missing");
    }
  });
});
