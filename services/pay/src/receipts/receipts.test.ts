/**
 * The payer's view of payments (issue 9): who may see a payment (anyone signed in holding its id until someone
 * approved it; then only the payer who did), what the pay sheet shows (the card's last four and issuer only to that
 * payer), and the receipts — the payments a payer approved, newest first, with refunds — through the routes and the
 * wallet SDK's `client.payments.get/list`. A real issuer host stands behind the pay server, so issuer names are the
 * issuers' own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pinChallengeMac, PayClient, signTerms, type PayApiError } from "@mpay/wallet";
import type { ApprovalTerms } from "@mpay/protocol";
import { openTestNetwork, type TestNetwork } from "@mpay/testing/network";
import { addTestCard, newReleaseKey, type TestCard } from "../testing/cards.ts";
import { testBackends } from "../testing/databases.ts";
import { bindAndSetPin, newTestDevice, startLogin, type TestDevice } from "../testing/payer-device.ts";
import { call, paymentBody, signedInPayer } from "../testing/system.ts";
import { pairingCode } from "../checkout/pairing-code.ts";

type ErrorAnswer = { error: { code: string } };
type PayerPayment = {
  object: string;
  id: string;
  status: string;
  merchant: { name: string };
  pairingCode: string;
  declineCode: string | null;
  card: { id: string; last4: string; issuerName: string } | null;
};
const PIN = "408217";

interface Payer {
  token: string;
  payerId: string;
  device: TestDevice;
  card: TestCard;
}

describe.each(testBackends())("the payer's view of payments [%s]", (backend) => {
  let net: TestNetwork;
  let alice: Payer;
  let bob: Payer;
  let baseUrl: string;
  let issuerName: string;
  const app = () => net.pay.app;

  async function payerWithCard(name: string): Promise<Payer> {
    const session = await signedInPayer(net.pay.system, name);
    const device = await newTestDevice(app(), session.token);
    await bindAndSetPin(app(), session, device, PIN);
    return { ...session, device, card: await addTestCard(net.pay.system, app(), session, device) };
  }

  const newPayment = async (overrides: Record<string, unknown> = {}) =>
    (await call<{ id: string }>(app(), "POST", "/v1/payments", net.pay.merchant.secretKey, paymentBody(overrides))).body
      .id;

  /** The wallet's approval with the PIN (the payment then waits for the issuer's decision). */
  async function approve(payer: Payer, paymentId: string): Promise<void> {
    const challenge = await call<{ id: string; terms: ApprovalTerms }>(
      app(),
      "POST",
      `/v1/payer/payments/${paymentId}/approval-challenges`,
      payer.token,
      { deviceKey: payer.device.kid, cardId: payer.card.cardId },
    );
    if (challenge.status !== 200) throw new Error(`challenge: ${challenge.raw}`);
    const login = await startLogin(app(), payer.token, PIN, `approval:${challenge.body.id}`);
    const finished = await login.finish();
    const approved = await call(
      app(),
      "POST",
      `/v1/payer/approval-challenges/${challenge.body.id}/approve`,
      payer.token,
      {
        deviceSignature: await signTerms(payer.device.privateKey, payer.device.kid, challenge.body.terms),
        verification: {
          method: "pin",
          loginId: login.answer.body.loginId,
          finishLoginRequest: finished.finishLoginRequest,
          challengeMac: await pinChallengeMac(finished.sessionKey, challenge.body.id, challenge.body.terms),
        },
        releaseKey: (await newReleaseKey()).jwk,
      },
    );
    if (approved.status !== 200) throw new Error(`approve: ${approved.raw}`);
  }

  /** The issuer's decision, recorded as the authorization flow records it (the issuer round trip is tested elsewhere). */
  const decide = (paymentId: string, approved: boolean) =>
    net.pay.system.database.db.transaction((tx) =>
      net.pay.system.payments.recordIssuerDecision(
        tx,
        paymentId,
        approved
          ? { approved: true, issuerId: "sampo", authorizationCode: "A0001" }
          : { approved: false, issuerId: "sampo", declineCode: "insufficient_funds" },
      ),
    );

  const view = (payer: { token: string } | null, id: string) =>
    call<PayerPayment & ErrorAnswer>(app(), "GET", `/v1/payer/payments/${id}`, payer?.token ?? null);

  beforeAll(async () => {
    net = await openTestNetwork(backend);
    alice = await payerWithCard("Alice");
    bob = await payerWithCard("Bob");
    baseUrl = await app().listen({ host: "127.0.0.1", port: 0 });
    issuerName = (await net.pay.system.issuers.list()).find((i) => i.issuerId === "sampo")!.name;
  });
  afterAll(() => net?.close());

  it("shows a payment awaiting approval to any signed-in payer holding its id, without a card", async () => {
    const id = await newPayment({ amount: 35000, itemName: "Linen shirt" });
    for (const payer of [alice, bob]) {
      const answer = await view(payer, id);
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        object: "payment_request",
        id,
        status: "requires_approval",
        merchant: { name: "Test Shop" },
        itemName: "Linen shirt",
        amount: 35000,
        currency: "KRW",
        pairingCode: pairingCode(id),
        declineCode: null,
        card: null,
      });
    }
    expect((await view(null, id)).body.error.code).toBe("payer_session_invalid");
  });

  it("once approved, shows it to its payer only, with the card's last four and issuer; others find nothing", async () => {
    const id = await newPayment();
    await approve(alice, id);
    // Approved and waiting for the issuer: already Alice's.
    expect((await view(alice, id)).body).toMatchObject({
      status: "requires_approval",
      card: { id: alice.card.cardId, last4: "0016", issuerName },
    });
    await decide(id, true);
    expect((await view(alice, id)).body).toMatchObject({ status: "authorized", card: { last4: "0016" } });
    const toBob = await view(bob, id);
    expect([toBob.status, toBob.body.error.code]).toEqual([404, "payment_not_found"]);
    // Not found reads the same as an id that does not exist.
    for (const unknown of ["pay_01JZZZZZZZZZZZZZZZZZZZZZZZ", "nonsense"]) {
      const answer = await view(bob, unknown);
      expect([answer.status, answer.body.error.code]).toEqual([404, "payment_not_found"]);
      expect(Object.keys(answer.body.error).sort()).toEqual(Object.keys(toBob.body.error).sort());
    }
  });

  it("tells its payer why the issuer declined", async () => {
    const id = await newPayment();
    await approve(alice, id);
    await decide(id, false);
    expect((await view(alice, id)).body).toMatchObject({ status: "declined", declineCode: "insufficient_funds" });
  });

  it("lists the payer's receipts newest first, with the card and the refunds, a page at a time", async () => {
    const carol = await payerWithCard("Carol");
    const first = await newPayment({ amount: 35000, itemName: "Linen shirt" });
    const second = await newPayment({ amount: 12000, itemName: "Socks" });
    const someoneElses = await newPayment();
    for (const id of [first, second]) {
      await approve(carol, id);
      await decide(id, true);
    }
    await approve(bob, someoneElses);
    const secret = net.pay.merchant.secretKey;
    expect((await call(app(), "POST", `/v1/payments/${first}/capture`, secret, {})).status).toBe(200);
    const refund = await call<{ id: string }>(app(), "POST", `/v1/payments/${first}/refunds`, secret, {
      amount: 5000,
    });
    expect(refund.status).toBe(200);

    const client = new PayClient({ baseUrl, sessionToken: carol.token });
    const all = await client.payments.list();
    expect(all.hasMore).toBe(false);
    expect(all.data.map((r) => r.id)).toEqual([second, first]);
    expect(all.data[1]).toEqual({
      id: first,
      status: "captured",
      merchant: { name: "Test Shop" },
      itemName: "Linen shirt",
      amount: 35000,
      currency: "KRW",
      createdAt: expect.any(String),
      card: { id: carol.card.cardId, last4: "0016", issuerName },
      refundedAmount: 5000,
      refunds: [{ id: refund.body.id, amount: 5000, status: "succeeded", createdAt: expect.any(String) }],
    });
    expect(all.data[0]).toMatchObject({ status: "authorized", refundedAmount: 0, refunds: [] });

    const page1 = await client.payments.list({ limit: 1 });
    expect([page1.data.map((r) => r.id), page1.hasMore]).toEqual([[second], true]);
    const page2 = await client.payments.list({ limit: 1, startingAfter: second });
    expect([page2.data.map((r) => r.id), page2.hasMore]).toEqual([[first], false]);

    // The SDK's pay sheet read, and the refusal of someone else's payment as a typed error.
    expect(await client.payments.get(first)).toMatchObject({ id: first, card: { last4: "0016" } });
    const refused = await client.payments.get(someoneElses).catch((error: unknown) => error as PayApiError);
    expect(refused).toMatchObject({ code: "payment_not_found", statusCode: 404 });
    // Bob's receipts hold his payment and none of Carol's.
    const bobs = await new PayClient({ baseUrl, sessionToken: bob.token }).payments.list();
    expect(bobs.data.map((r) => r.id)).toContain(someoneElses);
    expect(bobs.data.map((r) => r.id)).not.toContain(first);
  });

  it("refuses a malformed page cursor and limit", async () => {
    for (const query of ["limit=0", "limit=101", "startingAfter=x", "other=1"]) {
      const answer = await call<ErrorAnswer>(app(), "GET", `/v1/payer/payments?${query}`, alice.token);
      expect(answer.status, query).toBe(400);
    }
  });
});
