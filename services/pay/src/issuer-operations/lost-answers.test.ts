/**
 * Lost answers from the issuer (issue 4: "A timeout or a lost answer never leaves a payment unknown"): the
 * issuer did the work, the pay server never heard. Nothing is guessed, nothing is done twice: the merchant's retry
 * with the same Idempotency-Key replays the first answer, no second operation starts while one is in doubt, and
 * the reconciler settles from the issuer's books — also an approval that lands after the approval window.
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
import { LossyConnector } from "../testing/lossy-connector.ts";
import { openTestNetwork, type TestNetwork } from "@mpay/testing/network";
import { call, paymentBody } from "../testing/system.ts";
import { IssuerError } from "../issuers/connector.ts";
import { newId } from "@mpay/protocol";
import { TEST_NETWORK_ROOTS } from "@mpay/testing/network-roots";

const PIN = "517342";
const CARD = { pan: "4111000000000016", expiry: "12/31", cvc: "806", phone: "+821055510001" };
const later = () => new Date(Date.now() + 3600_000);

describe.each(testBackends())("answers lost between the issuer and the pay server [%s]", (backend) => {
  let net: TestNetwork;
  let lossy: LossyConnector;
  let folder: string;
  let wallet: Wallet;
  let cardId: string;

  beforeAll(async () => {
    net = await openTestNetwork(backend, { connector: (real) => (lossy = new LossyConnector(real)) });
    const baseUrl = await net.pay.app.listen({ host: "127.0.0.1", port: 0 });
    folder = await mkdtemp(join(tmpdir(), "mpay-lost-"));
    const session = await net.pay.system.payers.openSession({
      subject: "acct_lost",
      displayName: "Kim Minji",
      phoneNumber: null,
    });
    wallet = new Wallet({
      trustedRoots: TEST_NETWORK_ROOTS,
      keyStore: new FileKeyStore(join(folder, "phone.json"), FileKeyStore.newDeviceSecret()),
      client: new PayClient({ baseUrl, sessionToken: session.sessionToken.peek() }),
      keyStretching: "memory-constrained",
    });
    await wallet.bindThisDevice("Phone");
    await wallet.setPin(PIN);
    cardId = (await (await wallet.startCardEnrollment(CARD)).complete(await net.latestCode(CARD.phone))).id;
  });
  afterAll(async () => {
    await net?.close();
    await rm(folder, { recursive: true, force: true });
  });

  const merchant = <T = Record<string, unknown>>(method: "GET" | "POST", path: string, body?: unknown, key?: string) =>
    call<T & { error?: { code: string } }>(
      net.pay.app,
      method,
      path,
      net.pay.merchant.secretKey,
      body,
      key ? { "idempotency-key": key } : {},
    );
  const books = (paymentId: string) => net.pay.system.issuers.inquire("sampo", paymentId);
  const paid = async (amount: number) => {
    const created = await merchant<{ id: string }>("POST", "/v1/payments", paymentBody({ amount }));
    await wallet.approvePayment(created.body.id, { cardId, pin: PIN, confirm: async () => true });
    return created.body.id;
  };

  it("a refund whose answer is lost is replayed for the same key, blocks a second one, and is recorded once", async () => {
    const id = await paid(30_000);
    expect((await merchant<{ status: string }>("POST", `/v1/payments/${id}/capture`)).body.status).toBe("captured");
    lossy.loseNext.add("refund");
    const first = await merchant("POST", `/v1/payments/${id}/refunds`, { amount: 5_000 }, "refund-1");
    expect([first.status, first.body.error?.code]).toEqual([503, "issuer_unavailable"]);
    // The merchant retries with the same key: the same answer, and no second refund at the issuer.
    const retry = await merchant("POST", `/v1/payments/${id}/refunds`, { amount: 5_000 }, "refund-1");
    expect([retry.status, retry.headers["idempotent-replayed"]]).toEqual([503, "true"]);
    // Another refund waits until the one in doubt is settled.
    expect((await merchant("POST", `/v1/payments/${id}/refunds`, { amount: 1_000 }, "refund-2")).body.error?.code).toBe(
      "payment_invalid_state",
    );
    expect(await books(id)).toMatchObject({ amountRefunded: 5_000 });
    expect((await merchant<{ amountRefunded: number }>("GET", `/v1/payments/${id}`)).body.amountRefunded).toBe(0);

    expect(await net.pay.system.reconciler.runOnce(50, later())).toBe(1);
    expect((await merchant<{ amountRefunded: number }>("GET", `/v1/payments/${id}`)).body.amountRefunded).toBe(5_000);
    expect(await books(id)).toMatchObject({ amountCaptured: 30_000, amountRefunded: 5_000 });
    expect((await merchant<{ data: unknown[] }>("GET", `/v1/payments/${id}/refunds`)).body.data).toHaveLength(1);
    expect((await net.pay.system.ledger.verify(net.pay.system.database.db)).ok).toBe(true);
  });

  it("a lost approval is recovered at once by the pay server's own inquiry", async () => {
    const created = await merchant<{ id: string }>("POST", "/v1/payments", paymentBody({ amount: 12_000 }));
    lossy.loseNext.add("authorize");
    const outcome = await wallet.approvePayment(created.body.id, { cardId, pin: PIN, confirm: async () => true });
    expect(outcome.payment.status).toBe("authorized"); // recovered by the inquiry right after the lost answer
    expect(await books(created.body.id)).toMatchObject({ status: "approved" });
  });

  it("an approval that lands once the payment no longer awaits it is voided at the issuer; the payment stays as it was", async () => {
    const created = await merchant<{ id: string }>("POST", "/v1/payments", paymentBody({ amount: 7_000 }));
    // The payment leaves `requires_approval` while the issuer decides (a race the guarded decision must lose cleanly).
    const authorize = lossy.authorize;
    lossy.authorize = async (...a) => {
      lossy.authorize = authorize;
      const answer = await authorize(...a);
      await net.pay.system.database.db.execute(
        sql`update payments set status = 'expired' where id = ${created.body.id}`,
      );
      return answer;
    };
    const outcome = await wallet.approvePayment(created.body.id, { cardId, pin: PIN, confirm: async () => true });
    expect(outcome.payment.status).toBe("expired");
    expect(await books(created.body.id)).toMatchObject({ status: "voided" });
    const events = await merchant<{ data: Array<{ type: string; data: { payment: { id: string } } }> }>(
      "GET",
      "/v1/events?limit=100",
    );
    expect(events.body.data.filter((e) => e.data.payment.id === created.body.id)).toEqual([]);
    const [postings] = await queryRows<{ n: number }>(
      net.pay.system.database.db,
      sql`select count(*)::int as n from ledger_transactions where payment_id = ${created.body.id}`,
    );
    expect(Number(postings?.n)).toBe(0);
    expect((await net.pay.system.ledger.verify(net.pay.system.database.db)).ok).toBe(true);
  });

  it("an approval whose payment changed otherwise while the issuer decided is left to the reconciler, which records it as it now stands", async () => {
    const created = await merchant<{ id: string }>("POST", "/v1/payments", paymentBody({ amount: 6_000 }));
    // No flow changes a payment awaiting approval but by its status; should one ever, the event must not be stale.
    const authorize = lossy.authorize;
    lossy.authorize = async (...a) => {
      lossy.authorize = authorize;
      const answer = await authorize(...a);
      await net.pay.system.database.db.execute(
        sql`update payments set item_name = 'Changed meanwhile' where id = ${created.body.id}`,
      );
      return answer;
    };
    const error = await wallet.approvePayment(created.body.id, { cardId, pin: PIN, confirm: async () => true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).not.toBeNull();
    expect((await merchant<{ status: string }>("GET", `/v1/payments/${created.body.id}`)).body.status).toBe(
      "requires_approval",
    );
    expect(await net.pay.system.reconciler.runOnce(50, later())).toBe(1);
    expect((await merchant<{ status: string }>("GET", `/v1/payments/${created.body.id}`)).body.status).toBe(
      "authorized",
    );
    const events = await merchant<{
      data: Array<{ type: string; data: { payment: { id: string; itemName: string } } }>;
    }>("GET", "/v1/events?limit=100");
    const mine = events.body.data.filter((e) => e.data.payment.id === created.body.id);
    expect(mine.map((e) => [e.type, e.data.payment.itemName])).toEqual([["payment.authorized", "Changed meanwhile"]]);
    expect((await net.pay.system.ledger.verify(net.pay.system.database.db)).ok).toBe(true);
  });

  it("an approval in doubt while the issuer is unreachable: no cancel under it; recorded from the books once it answers, window or not", async () => {
    const created = await merchant<{ id: string }>("POST", "/v1/payments", paymentBody({ amount: 9_000 }));
    // The answer is lost and the immediate inquiry fails too (the issuer went away right after deciding).
    lossy.loseNext.add("authorize");
    const inquire = lossy.inquire;
    lossy.inquire = async () => {
      lossy.inquire = inquire;
      throw new IssuerError("unavailable", "issuer_unavailable", "down (test)");
    };
    const error = await wallet.approvePayment(created.body.id, { cardId, pin: PIN, confirm: async () => true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isPayApiError(error, "issuer_unavailable")).toBe(true);
    expect((await merchant("POST", `/v1/payments/${created.body.id}/cancel`)).body.error?.code).toBe(
      "payment_invalid_state",
    );
    // A long outage: the approval window has passed by the time the issuer answers again.
    await net.pay.system.database.db.execute(
      sql`update payments set approval_expires_at = now() - interval '1 minute' where id = ${created.body.id}`,
    );
    expect(await net.pay.system.payments.expireDue(later())).toBe(0); // the clock does not decide what the issuer holds
    expect(await net.pay.system.reconciler.runOnce(50, later())).toBe(1);
    expect((await merchant<{ status: string }>("GET", `/v1/payments/${created.body.id}`)).body.status).toBe(
      "authorized",
    );
    expect(await books(created.body.id)).toMatchObject({ status: "approved", amount: 9_000 });
  });
  // The window `npm run drill -- crash` found: the issuer applied a capture, and the pay server died before its own
  // commit, which rolled back the operation row and the key's reservation. Only the merchant's retry is left.
  const capturedBeforeTheCrash = async (id: string, amount: number) => {
    await net.pay.system.issuers.capture("sampo", id, { operationId: newId("issuerOperation"), amount });
    expect(await books(id)).toMatchObject({ status: "captured", amountCaptured: amount });
  };

  it("a capture the issuer applied before the pay server's crash is recorded when the merchant's retry meets it", async () => {
    const id = await paid(4_000);
    await capturedBeforeTheCrash(id, 4_000);
    const retry = await merchant<{ status: string }>("POST", `/v1/payments/${id}/capture`, {}, "capture-crashed");
    expect([retry.status, retry.body.status]).toEqual([200, "captured"]);
    expect(await books(id)).toMatchObject({ amountCaptured: 4_000 }); // captured once, not twice
    expect((await net.pay.system.ledger.verify(net.pay.system.database.db)).ok).toBe(true);
  });

  it("… and when the retry's own request was lost on its way, the reconciler records it from the issuer's books", async () => {
    const id = await paid(5_000);
    await capturedBeforeTheCrash(id, 5_000);
    lossy.dropNext.add("capture");
    const retry = await merchant("POST", `/v1/payments/${id}/capture`, {}, "capture-crashed-twice");
    expect([retry.status, retry.body.error?.code]).toEqual([503, "issuer_unavailable"]);
    // The reconciler sends the operation again; the issuer refuses it (already captured) and its books are exactly
    // ours plus this capture. Before, the operation ended `failed` and the payment stayed authorized here.
    expect(await net.pay.system.reconciler.runOnce(50, later())).toBe(1);
    const payment = await merchant<{ status: string; amountCaptured: number }>("GET", `/v1/payments/${id}`);
    expect([payment.body.status, payment.body.amountCaptured]).toEqual(["captured", 5_000]);
    expect(await books(id)).toMatchObject({ amountCaptured: 5_000 });
    const [operation] = await queryRows<{ status: string }>(
      net.pay.system.database.db,
      sql`select status from issuer_operations where payment_id = ${id} and kind = 'capture'`,
    );
    expect(operation?.status).toBe("done");
    const events = await merchant<{ data: Array<{ type: string; data: { payment: { id: string } } }> }>(
      "GET",
      "/v1/events?limit=100",
    );
    expect(events.body.data.filter((e) => e.data.payment.id === id).map((e) => e.type)).toContain("payment.captured");
    expect((await net.pay.system.ledger.verify(net.pay.system.database.db)).ok).toBe(true);
  });

  it("a capture the issuer refuses for another reason still fails at the reconciler; the payment stays authorized", async () => {
    const id = await paid(6_000);
    await capturedBeforeTheCrash(id, 2_000); // not this request: another amount
    lossy.dropNext.add("capture");
    const retry = await merchant("POST", `/v1/payments/${id}/capture`, {}, "capture-other");
    expect(retry.status).toBe(503);
    expect(await net.pay.system.reconciler.runOnce(50, later())).toBe(1);
    expect((await merchant<{ status: string }>("GET", `/v1/payments/${id}`)).body.status).toBe("authorized");
    const [operation] = await queryRows<{ status: string }>(
      net.pay.system.database.db,
      sql`select status from issuer_operations where payment_id = ${id} and kind = 'capture'`,
    );
    expect(operation?.status).toBe("failed");
  });
  it("a capture the issuer holds and no retry repaired is recorded at the authorization's end, not voided", async () => {
    const id = await paid(7_000);
    await capturedBeforeTheCrash(id, 7_000); // and the merchant never retries
    const db = net.pay.system.database.db;
    await db.execute(sql`update payments set authorization_expires_at = now() - interval '1 minute' where id = ${id}`);
    expect(await net.pay.system.payments.expireDue(later())).toBe(1);
    const payment = await merchant<{ status: string; amountCaptured: number }>("GET", `/v1/payments/${id}`);
    expect([payment.body.status, payment.body.amountCaptured]).toEqual(["captured", 7_000]);
    expect(await books(id)).toMatchObject({ status: "captured", amountCaptured: 7_000 });
    const operations = await queryRows<{ kind: string; status: string; error: string | null }>(
      db,
      sql`select kind, status, last_error as error from issuer_operations where payment_id = ${id} and kind = 'void'`,
    );
    expect(operations).toEqual([{ kind: "void", status: "failed", error: "operation_not_allowed" }]);
    const events = await merchant<{ data: Array<{ type: string; data: { payment: { id: string } } }> }>(
      "GET",
      "/v1/events?limit=100",
    );
    const mine = events.body.data.filter((e) => e.data.payment.id === id).map((e) => e.type);
    expect(mine).toContain("payment.captured");
    expect(mine).not.toContain("payment.expired");
    expect((await net.pay.system.ledger.verify(db)).ok).toBe(true);
  });

  it("approvals in doubt past their window do not stall the expiry of the others: one pass reads each due payment once", async () => {
    // Last in this file: its six silent calls open the issuer's circuit breaker for any test after it.
    const inDoubt: string[] = [];
    for (const amount of [1_001, 1_002, 1_003]) {
      const created = await merchant<{ id: string }>("POST", "/v1/payments", paymentBody({ amount }));
      lossy.loseNext.add("authorize");
      const inquire = lossy.inquire;
      lossy.inquire = async () => {
        lossy.inquire = inquire;
        throw new IssuerError("unavailable", "issuer_unavailable", "down (test)");
      };
      await wallet.approvePayment(created.body.id, { cardId, pin: PIN, confirm: async () => true }).catch(() => null);
      inDoubt.push(created.body.id);
    }
    const plain = await merchant<{ id: string }>("POST", "/v1/payments", paymentBody({ amount: 999 }));
    // The ones in doubt come first in expiry order, more of them than one batch: a pass that read the first batch
    // again and again never got past them (and held up every maintenance task behind it, the reconciler too).
    const db = net.pay.system.database.db;
    for (const id of inDoubt)
      await db.execute(sql`update payments set approval_expires_at = now() - interval '2 minutes' where id = ${id}`);
    await db.execute(
      sql`update payments set approval_expires_at = now() - interval '1 minute' where id = ${plain.body.id}`,
    );
    expect(await net.pay.system.payments.expireDue(later(), 2)).toBe(1);
    expect((await merchant<{ status: string }>("GET", `/v1/payments/${plain.body.id}`)).body.status).toBe("expired");
    for (const id of inDoubt)
      expect((await merchant<{ status: string }>("GET", `/v1/payments/${id}`)).body.status).toBe("requires_approval");
  }, 30_000);
});
