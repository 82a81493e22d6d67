/**
 * A device payment end to end through a real issuer host (in this process, over HTTP): the wallet SDK enrolls a
 * test card (the code from the simulator's inbox), pays with the PIN, and the merchant captures and refunds; each
 * step reaches the issuer, whose books then balance with ours. Then what the issuer declines, and what happens
 * when it does not answer.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../db/client.ts";
import { isWalletError, PayClient, Wallet } from "@mpay/wallet";
import { SoftwareAuthenticator } from "../testing/software-authenticator.ts";
import { FileKeyStore } from "@mpay/wallet/node";
import { testBackends } from "../testing/databases.ts";
import { openTestNetwork, type TestNetwork } from "@mpay/testing/network";
import { call, paymentBody } from "../testing/system.ts";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";

const PIN = "258013";
const CARDS = {
  approves: { pan: "4111000000000016", expiry: "12/31", cvc: "806", phone: "+821055510001" },
  // The issuer sends a card at most five codes a day: tests spread over its approving cards.
  mastercard: { pan: "5111000000000021", expiry: "12/31", cvc: "932", phone: "+821055510002" },
  local: { pan: "9411000000000038", expiry: "12/31", cvc: "980", phone: "+821055510003" },
  lowLimit: { pan: "4111000000000040", expiry: "12/31", cvc: "652", phone: "+821055510004" },
  lost: { pan: "4111000000000065", expiry: "12/31", cvc: "592", phone: "+821055510006" },
};

describe.each(testBackends())("device payments through the issuer [%s]", (backend) => {
  let net: TestNetwork;
  let folder: string;
  let baseUrl: string;

  beforeAll(async () => {
    net = await openTestNetwork(backend);
    baseUrl = await net.pay.app.listen({ host: "127.0.0.1", port: 0 });
    folder = await mkdtemp(join(tmpdir(), "mpay-auth-"));
  });
  afterAll(async () => {
    await net?.close();
    await rm(folder, { recursive: true, force: true });
  });

  const PROFILE = {
    name: "Kim Minji",
    email: "minji@example.com",
    phone: "+821012345678",
    shippingAddresses: [
      {
        label: "Home",
        recipient: "Kim Minji",
        line1: "12 Sejong-daero",
        city: "Seoul",
        postalCode: "04524",
        country: "KR",
      },
      {
        label: "Office",
        recipient: "Kim Minji",
        line1: "7 Teheran-ro",
        city: "Seoul",
        postalCode: "06236",
        country: "KR",
      },
    ],
  };

  /** A payer with a bound phone, a PIN, and `card` enrolled on it (with the personal record sealed beside it). */
  async function payerWithCard(card: (typeof CARDS)[keyof typeof CARDS]) {
    const session = await net.pay.system.payers.openSession({
      subject: `acct_${Math.random().toString(36).slice(2)}`,
      displayName: "Kim Minji",
      phoneNumber: null,
    });
    const client = new PayClient({ baseUrl, sessionToken: session.sessionToken.peek() });
    const wallet = new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore: new FileKeyStore(join(folder, `${session.payer.id}.json`), FileKeyStore.newDeviceSecret()),
      client,
      keyStretching: "memory-constrained",
    });
    await wallet.bindThisDevice("Phone");
    await wallet.setPin(PIN);
    const pending = await wallet.startCardEnrollment(
      { pan: card.pan, expiry: card.expiry, cvc: card.cvc },
      { profile: PROFILE },
    );
    expect(pending).toMatchObject({ issuerId: "sampo", issuerName: "Sampo Card" });
    const enrolled = await pending.complete(await net.latestCode(card.phone));
    expect(enrolled).toMatchObject({
      status: "active",
      last4: card.pan.slice(-4),
      issuerId: "sampo",
      recordVersion: 1,
    });
    return { wallet, cardId: enrolled.id, payerId: session.payer.id };
  }

  const newPayment = async (amount: number, captureMethod = "manual") => {
    const answer = await call<{ id: string }>(
      net.pay.app,
      "POST",
      "/v1/payments",
      net.pay.merchant.secretKey,
      paymentBody({ amount, captureMethod }),
    );
    return answer.body.id;
  };
  const merchantView = async (id: string) =>
    (
      await call<{ status: string; amountCaptured: number; amountRefunded: number; declineCode: string | null }>(
        net.pay.app,
        "GET",
        `/v1/payments/${id}`,
        net.pay.merchant.secretKey,
      )
    ).body;
  const issuerBooks = async (paymentId: string) => net.pay.system.issuers.inquire("sampo", paymentId);

  it("enrolls, pays, captures in part and refunds in part, each step at the issuer too", async () => {
    const { wallet, cardId } = await payerWithCard(CARDS.approves);
    const paymentId = await newPayment(35000);
    const { payment } = await wallet.approvePayment(paymentId, {
      cardId,
      pin: PIN,
      confirm: async (terms) => terms.amount === 35000 && terms.merchantName === "Test Shop",
    });
    expect(payment).toMatchObject({ id: paymentId, status: "authorized", declineCode: null });
    expect(await issuerBooks(paymentId)).toMatchObject({ status: "approved", amount: 35000, amountCaptured: 0 });

    const captured = await call<{ status: string }>(
      net.pay.app,
      "POST",
      `/v1/payments/${paymentId}/capture`,
      net.pay.merchant.secretKey,
      { amount: 30000 },
    );
    expect(captured.body.status, JSON.stringify(captured.body)).toBe("captured");
    const refund = await call(net.pay.app, "POST", `/v1/payments/${paymentId}/refunds`, net.pay.merchant.secretKey, {
      amount: 5000,
    });
    expect(refund.status).toBe(200);
    expect(await issuerBooks(paymentId)).toMatchObject({
      status: "captured",
      amountCaptured: 30000,
      amountRefunded: 5000,
    });
    expect(await merchantView(paymentId)).toMatchObject({
      status: "captured",
      amountCaptured: 30000,
      amountRefunded: 5000,
    });
    // The payer is told in the MPay chat: the receipt when the issuer approved, then the refund, in the outbox
    // with the facts the messenger app writes in the reader's language.
    const told = await queryRows<{ kind: string; text: string; params: Record<string, unknown>; actions: unknown }>(
      net.pay.system.database.db,
      sql`select kind, text, params, actions from announcements
          where kind in ('payment_receipt', 'payment_refunded') and actions::text like ${`%${paymentId}%`}
          order by created_at`,
    );
    expect(told.map((row) => row.kind)).toEqual(["payment_receipt", "payment_refunded"]);
    const card = { brand: "visa", last4: "0016" };
    expect(told[0]).toMatchObject({
      text: 'Paid 35,000원 (₩35,000) to Test Shop for "Linen shirt" with Visa •••• 0016.',
      params: { merchantName: "Test Shop", amount: 35000, currency: "KRW", ...card },
      actions: [{ label: "Receipt", action: `mpay:receipt/${paymentId}` }],
    });
    expect(told[1]).toMatchObject({ params: { merchantName: "Test Shop", amount: 5000, currency: "KRW", ...card } });
    // More than captured is refused here and never reaches the issuer.
    const tooMuch = await call<{ error: { code: string } }>(
      net.pay.app,
      "POST",
      `/v1/payments/${paymentId}/refunds`,
      net.pay.merchant.secretKey,
      { amount: 25001 },
    );
    expect(tooMuch.body.error.code).toBe("refund_exceeds_captured");
    expect((await net.pay.system.ledger.verify(net.pay.system.database.db)).ok).toBe(true);
  });

  it("pays in USD, JPY and EUR with a KRW card: the issuer bills won at its rate, the merchant captures and refunds in USD", async () => {
    const { wallet, cardId } = await payerWithCard(CARDS.local);
    const cardRef = (await wallet.cards()).find((c) => c.id === cardId)!.cardRef;
    const backoffice = async <T>(path: string) =>
      (await (
        await fetch(`${net.issuerUrl}/issuers/sampo/backoffice/cards/${encodeURIComponent(cardRef)}${path}`, {
          headers: { authorization: `Bearer ${net.issuer.host.secrets.operatorToken.peek()}` },
        })
      ).json()) as T;
    const openToBuy = async () => (await backoffice<{ openToBuy: number }>("")).openToBuy;
    const billed = async (paymentId: string) =>
      (
        await backoffice<{ authorizations: Array<{ paymentId: string; billing: unknown; fx: unknown }> }>(
          "/authorizations",
        )
      ).authorizations.find((a) => a.paymentId === paymentId);
    const start = await openToBuy();
    const pay = async (amount: number, currency: string) => {
      const created = await call<{ id: string }>(
        net.pay.app,
        "POST",
        "/v1/payments",
        net.pay.merchant.secretKey,
        paymentBody({ amount, currency }),
      );
      const { payment } = await wallet.approvePayment(created.body.id, {
        cardId,
        pin: PIN,
        confirm: async (terms) => terms.amount === amount && terms.currency === currency,
      });
      expect(payment, currency).toMatchObject({ status: "authorized", declineCode: null, amount, currency });
      return created.body.id;
    };

    // 12.34 USD: 17,029 KRW at the issuer's 1380.00 and its 1% fee, 170: 17,199 KRW held.
    const usd = await pay(1234, "USD");
    expect(await issuerBooks(usd)).toMatchObject({ status: "approved", amount: 1234, currency: "USD" });
    expect(await billed(usd)).toMatchObject({
      billing: { amount: 17_199, currency: "KRW" },
      fx: { rate: "1380.00", feeBps: 100 },
    });
    expect(await openToBuy()).toBe(start - 17_199);
    const captured = await call<{ status: string }>(
      net.pay.app,
      "POST",
      `/v1/payments/${usd}/capture`,
      net.pay.merchant.secretKey,
      { amount: 1000 },
    );
    expect(captured.body.status, JSON.stringify(captured.body)).toBe("captured");
    expect(await openToBuy()).toBe(start - 13_938);
    const refund = await call(net.pay.app, "POST", `/v1/payments/${usd}/refunds`, net.pay.merchant.secretKey, {
      amount: 1000,
    });
    expect(refund.status).toBe(200);
    expect(await issuerBooks(usd)).toMatchObject({ amountCaptured: 1000, amountRefunded: 1000, currency: "USD" });
    expect(await merchantView(usd)).toMatchObject({ status: "captured", amountCaptured: 1000, amountRefunded: 1000 });
    expect(await openToBuy()).toBe(start);

    // 1,001 JPY (no minor unit): 9,259.25 → 9,259 KRW + 93; 100.50 EUR: 150,298 KRW + 1,503.
    const jpy = await pay(1001, "JPY");
    expect(await billed(jpy)).toMatchObject({ billing: { amount: 9_352, currency: "KRW" } });
    const eur = await pay(10_050, "EUR");
    expect(await billed(eur)).toMatchObject({ billing: { amount: 151_801, currency: "KRW" } });
    for (const id of [jpy, eur])
      expect(
        (await call<{ status: string }>(net.pay.app, "POST", `/v1/payments/${id}/cancel`, net.pay.merchant.secretKey))
          .body.status,
      ).toBe("canceled");
    expect(await openToBuy()).toBe(start);
    expect((await net.pay.system.ledger.verify(net.pay.system.database.db)).ok).toBe(true);
  });

  it("voids at the issuer when the merchant cancels an authorization", async () => {
    const { wallet, cardId } = await payerWithCard(CARDS.approves);
    const paymentId = await newPayment(12000);
    await wallet.approvePayment(paymentId, { cardId, pin: PIN, confirm: async () => true });
    const canceled = await call<{ status: string }>(
      net.pay.app,
      "POST",
      `/v1/payments/${paymentId}/cancel`,
      net.pay.merchant.secretKey,
    );
    expect(canceled.body.status).toBe("canceled");
    expect(await issuerBooks(paymentId)).toMatchObject({ status: "voided" });
  });

  it("records the issuer's declines with their codes", async () => {
    const low = await payerWithCard(CARDS.lowLimit);
    const overLimit = await newPayment(35000);
    expect(
      (await low.wallet.approvePayment(overLimit, { cardId: low.cardId, pin: PIN, confirm: async () => true })).payment,
    ).toMatchObject({ status: "declined", declineCode: "insufficient_funds" });
    expect(await merchantView(overLimit)).toMatchObject({ status: "declined", declineCode: "insufficient_funds" });
    const lost = await payerWithCard(CARDS.lost);
    const stolen = await newPayment(1000);
    expect(
      (await lost.wallet.approvePayment(stolen, { cardId: lost.cardId, pin: PIN, confirm: async () => true })).payment,
    ).toMatchObject({ status: "declined", declineCode: "lost_or_stolen" });
  });

  it("revokes a device: its server shares are deleted and the issuer acknowledges the unbind", async () => {
    const { wallet, cardId } = await payerWithCard(CARDS.approves);
    const device = (await wallet.thisDevice())!;
    const cardRef = (await wallet.cards()).find((c) => c.id === cardId)!.cardRef;
    expect((await wallet.revokeDevice(device.id)).status).toBe("revoked");
    const [card] = await queryRows<{ status: string; wrapped_k_srv: string | null; sealed_card: string | null }>(
      net.pay.system.database.db,
      sql`select status, wrapped_k_srv, sealed_card from cards where id = ${cardId}`,
    );
    expect(card).toEqual({ status: "removed", wrapped_k_srv: null, sealed_card: null });
    const [unbind] = await queryRows<{ status: string; issuer_id: string }>(
      net.pay.system.database.db,
      sql`select status, issuer_id from device_unbinds where device_id = ${device.id}`,
    );
    expect(unbind).toEqual({ status: "acknowledged", issuer_id: "sampo" });
    const backoffice = await fetch(`${net.issuerUrl}/issuers/sampo/backoffice/cards/${encodeURIComponent(cardRef)}`, {
      headers: { authorization: `Bearer ${net.issuer.host.secrets.operatorToken.peek()}` },
    });
    const view = (await backoffice.json()) as {
      deviceBindings: Array<{ deviceKid: string; unboundAt: string | null }>;
    };
    expect(view.deviceBindings.find((b) => b.deviceKid === device.keyThumbprint)?.unboundAt).not.toBeNull();
  });

  it("keeps a card on file for a merchant: the payer consents to a schedule with a payment, the merchant charges off-session, the issuer holds the schedule, the merchant and the payer's revocation", async () => {
    const { wallet, cardId } = await payerWithCard(CARDS.approves);
    const expiresAt = new Date(Math.floor(Date.now() / 1000 + 30 * 86_400) * 1000).toISOString();
    // At most 20,000 a charge, two charges and 30,000 a month.
    const period = { interval: "month", maxCharges: 2, maxTotal: 30000 };
    const first = await call<{ id: string; setupFutureUsage: { maxAmount: number } }>(
      net.pay.app,
      "POST",
      "/v1/payments",
      net.pay.merchant.secretKey,
      paymentBody({ amount: 9900, setupFutureUsage: { maxAmount: 20000, period, expiresAt } }),
    );
    expect(first.body.setupFutureUsage).toEqual({ maxAmount: 20000, period, expiresAt });
    let shownMandate: unknown = null;
    const { payment } = await wallet.approvePayment(first.body.id, {
      cardId,
      pin: PIN,
      confirm: async (_terms, mandate) => {
        shownMandate = mandate;
        // The page cannot change what the device signs: the schedule it is shown is frozen, nested period included.
        expect(() => Object.assign(mandate!.period, { maxCharges: 100, maxTotal: 2_000_000 })).toThrow(TypeError);
        return true;
      },
    });
    expect(shownMandate).toMatchObject({
      merchantName: "Test Shop",
      maxAmount: 20000,
      period,
      currency: "KRW",
      aud: "sampo",
      expiresAt: Math.floor(Date.parse(expiresAt) / 1000),
    });
    expect(payment).toMatchObject({ status: "authorized", mandate: expect.stringMatching(/^rmd_/) });
    const mandateId = payment.mandate!;
    expect(
      (await call(net.pay.app, "GET", `/v1/mandates/${mandateId}`, net.pay.merchant.secretKey)).body,
    ).toMatchObject({ status: "active", maxAmount: 20000, period, expiresAt, paymentId: first.body.id });
    expect(await wallet.mandates()).toMatchObject([
      { id: mandateId, status: "active", merchantId: net.pay.merchant.id, period },
    ]);
    const eventsOf = async (type: string) =>
      (
        await call<{ data: Array<{ data: { mandate: { id: string; status: string; period: unknown } } }> }>(
          net.pay.app,
          "GET",
          `/v1/events?type=${type}`,
          net.pay.merchant.secretKey,
        )
      ).body.data.filter((e) => e.data.mandate.id === mandateId);
    expect((await eventsOf("mandate.created")).map((e) => [e.data.mandate.status, e.data.mandate.period])).toEqual([
      ["active", period],
    ]);

    const charge = (amount: number, key = net.pay.merchant.secretKey) =>
      call<{ id: string; status: string; declineCode: string | null; mandate: string; error?: { code: string } }>(
        net.pay.app,
        "POST",
        "/v1/payments",
        key,
        {
          amount,
          currency: "KRW",
          orderId: `sub-${amount}-${Math.random()}`,
          itemName: "Monthly plan",
          mandate: mandateId,
        },
      );
    const monthly = await charge(15000);
    expect(monthly.body).toMatchObject({ status: "captured", mandate: mandateId, declineCode: null });
    expect(await issuerBooks(monthly.body.id)).toMatchObject({ status: "captured", amountCaptured: 15000 });
    // Over the cap: the issuer declines it (the pay server does not pre-judge the issuer's rules).
    expect((await charge(25000)).body).toMatchObject({ status: "declined", declineCode: "token_over_cap" });
    // Over the month's total, then over its count: the issuer holds the schedule the payer signed.
    expect((await charge(15001)).body).toMatchObject({ status: "declined", declineCode: "mandate_limit_exceeded" });
    expect((await charge(15000)).body).toMatchObject({ status: "captured" });
    expect((await charge(1)).body).toMatchObject({ status: "declined", declineCode: "mandate_limit_exceeded" });
    // Another merchant cannot even name it.
    const other = await net.pay.createMerchant("Other Shop");
    expect((await charge(1000, other.secretKey)).body.error?.code).toBe("resource_missing");
    // The payer withdraws consent: the issuer refuses every later charge.
    expect((await wallet.revokeMandate(mandateId)).status).toBe("revoked");
    expect((await eventsOf("mandate.revoked")).map((e) => e.data.mandate.status)).toEqual(["revoked"]);
    expect((await charge(1000)).body).toMatchObject({ status: "declined", declineCode: "token_invalid" });
    // Nothing of the token reaches the merchant or the payer.
    const [row] = await queryRows<{ sealed_token: string }>(
      net.pay.system.database.db,
      sql`select sealed_token from recurring_mandates where id = ${mandateId}`,
    );
    expect(row!.sealed_token).not.toMatch(/rtk_/);
  });

  it("shares with the merchant, for one payment, only the personal details it asked for and the payer chose", async () => {
    const { wallet, cardId } = await payerWithCard(CARDS.mastercard);
    const created = await call<{ id: string }>(
      net.pay.app,
      "POST",
      "/v1/payments",
      net.pay.merchant.secretKey,
      paymentBody({ amount: 5000, collect: ["shipping", "name"] }),
    );
    let asked: readonly string[] = [];
    await wallet.approvePayment(created.body.id, {
      cardId,
      pin: PIN,
      confirm: async () => true,
      // The payer picks the office address, and tries to add the e-mail the merchant did not ask for.
      share: async (fields, profile) => (
        (asked = fields), { name: profile.name, shipping: profile.shippingAddresses![1], email: profile.email }
      ),
    });
    expect([...asked].sort()).toEqual(["name", "shipping"]);
    const read = await call<{ sharedDetails: unknown; collect: string[] }>(
      net.pay.app,
      "GET",
      `/v1/payments/${created.body.id}`,
      net.pay.merchant.secretKey,
    );
    expect(read.body.collect).toEqual(["shipping", "name"]);
    expect(read.body.sharedDetails).toEqual({ name: "Kim Minji", shipping: PROFILE.shippingAddresses[1] });
    // Nowhere else: not in the list, not in an event (webhook payload), not in the row in clear.
    const list = await call(net.pay.app, "GET", "/v1/payments?limit=5", net.pay.merchant.secretKey);
    expect(JSON.stringify(list.body)).not.toContain("Teheran");
    const [row] = await queryRows<{ sealed_shared_details: string }>(
      net.pay.system.database.db,
      sql`select sealed_shared_details from payments where id = ${created.body.id}`,
    );
    expect(row!.sealed_shared_details).not.toContain("Teheran");
    const events = await queryRows<{ text: string }>(
      net.pay.system.database.db,
      sql`select e::text as text from events e`,
    );
    expect(events.map((e) => e.text).join("\n")).not.toContain("Teheran");
    // A payment that asked for nothing gets nothing, whatever a client sends.
    const plain = await call<{ id: string }>(
      net.pay.app,
      "POST",
      "/v1/payments",
      net.pay.merchant.secretKey,
      paymentBody({ amount: 5000 }),
    );
    await wallet.approvePayment(plain.body.id, {
      cardId,
      pin: PIN,
      confirm: async () => true,
      share: async () => ({ name: "x" }),
    });
    expect(
      (
        await call<{ sharedDetails: unknown }>(
          net.pay.app,
          "GET",
          `/v1/payments/${plain.body.id}`,
          net.pay.merchant.secretKey,
        )
      ).body.sharedDetails,
    ).toBeNull();
  });

  it("approves with a passkey the issuer checks itself, within its own per-method limits (above the PIN's)", async () => {
    // The payer adds a passkey (device's word and the PIN), then enrolls the card with it bound at the issuer.
    const session = await net.pay.system.payers.openSession({
      subject: `acct_${Math.random().toString(36).slice(2)}`,
      displayName: "Kim Minji",
      phoneNumber: null,
    });
    const client = new PayClient({ baseUrl, sessionToken: session.sessionToken.peek() });
    const wallet = new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore: new FileKeyStore(join(folder, `${session.payer.id}.json`), FileKeyStore.newDeviceSecret()),
      client,
      keyStretching: "memory-constrained",
    });
    await wallet.bindThisDevice("Phone");
    await wallet.setPin(PIN);
    const authenticator = new SoftwareAuthenticator("http://localhost:4300");
    const passkey = await wallet.addPasskey(
      PIN,
      async (options) => authenticator.create(options as never) as unknown as Record<string, unknown>,
    );
    // With a wrong PIN nothing is added (the login cannot finish on the device; a try is spent).
    expect(
      isWalletError(
        await wallet
          .addPasskey("000000", async () => ({}))
          .then(
            () => null,
            (e: unknown) => e,
          ),
        "pin_incorrect",
      ),
    ).toBe(true);
    const card = await (
      await wallet.startCardEnrollment(
        { pan: CARDS.mastercard.pan, expiry: CARDS.mastercard.expiry, cvc: CARDS.mastercard.cvc },
        { passkeys: [{ id: passkey.id, publicKey: passkey.publicKey }] },
      )
    ).complete(await net.latestCode(CARDS.mastercard.phone));

    // 3,000,000 KRW: above what the issuer accepts on a PIN statement (2,000,000), within a passkey's (10,000,000).
    const withPin = await newPayment(3_000_000);
    expect(
      (await wallet.approvePayment(withPin, { cardId: card.id, pin: PIN, confirm: async () => true })).payment,
    ).toMatchObject({ status: "declined", declineCode: "authentication_failed" });
    const withPasskey = await newPayment(3_000_000);
    let challengeSeen = "";
    const { approval, payment } = await wallet.approvePayment(withPasskey, {
      cardId: card.id,
      confirm: async () => true,
      passkey: async (challenge) => (
        (challengeSeen = challenge),
        authenticator.get({ challenge, rpId: "localhost" }) as unknown as Record<string, unknown>
      ),
    });
    expect(approval.method).toBe("passkey");
    expect(challengeSeen).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(payment).toMatchObject({ status: "authorized" });
    expect(await issuerBooks(withPasskey)).toMatchObject({ status: "approved", amount: 3_000_000 });
  });

  it("captures an automatic-capture payment at the issuer as soon as it is authorized", async () => {
    const { wallet, cardId } = await payerWithCard(CARDS.mastercard);
    const paymentId = await newPayment(7000, "automatic");
    expect(
      (await wallet.approvePayment(paymentId, { cardId, pin: PIN, confirm: async () => true })).payment.status,
    ).toBe("captured");
    expect(await issuerBooks(paymentId)).toMatchObject({ status: "captured", amountCaptured: 7000 });
  });
});
