/**
 * The card vault after enrollment: what a stored card holds, bad uploads, rotation of the KEK under load, and a
 * device's revocation reaching the issuer. (Enrollment and payment through the issuer: authorizations.test.ts;
 * the breach drills: e2e/breach-*.)
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openRelease, pinChallengeMac, signTerms } from "@mpay/wallet";
import type { ApprovalTerms } from "@mpay/protocol";
import { queryRows } from "../db/client.ts";
import { RESEALERS } from "../sealed-columns.ts";
import { rotateAndReseal } from "../keys/reseal.ts";
import { addTestCard, newReleaseKey, type TestCard } from "../testing/cards.ts";
import { testBackends } from "../testing/databases.ts";
import { bindAndSetPin, newTestDevice, startLogin, type TestDevice } from "../testing/payer-device.ts";
import { call, openTestPay, paymentBody, signedInPayer, type TestPay } from "../testing/system.ts";
import { cardShareResealer } from "./resealer.ts";

const PIN = "460913";
type ErrorAnswer = { error: { code: string } };

describe.each(testBackends())("the card vault [%s]", (backend) => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay(backend);
  });
  afterAll(() => t.close());

  async function payerWithCard() {
    const session = await signedInPayer(t.system);
    const device = await newTestDevice(t.app, session.token);
    await bindAndSetPin(t.app, session, device, PIN);
    return { session, device, card: await addTestCard(t.system, t.app, session, device) };
  }

  /** Approves a new payment with `card` and opens the release: the server's share as the device receives it. */
  async function releasedShare(
    session: { token: string; payerId: string },
    device: TestDevice,
    card: TestCard,
  ): Promise<string> {
    const payment = await call<{ id: string }>(t.app, "POST", "/v1/payments", t.merchant.secretKey, paymentBody());
    const challenge = await call<{ id: string; terms: ApprovalTerms }>(
      t.app,
      "POST",
      `/v1/payer/payments/${payment.body.id}/approval-challenges`,
      session.token,
      { deviceKey: device.kid, cardId: card.cardId },
    );
    const login = await startLogin(t.app, session.token, PIN, `approval:${challenge.body.id}`);
    const finished = await login.finish();
    const releaseKey = await newReleaseKey();
    const approved = await call<{ release: string } & ErrorAnswer>(
      t.app,
      "POST",
      `/v1/payer/approval-challenges/${challenge.body.id}/approve`,
      session.token,
      {
        deviceSignature: await signTerms(device.privateKey, device.kid, challenge.body.terms),
        verification: {
          method: "pin",
          loginId: login.answer.body.loginId,
          finishLoginRequest: finished.finishLoginRequest,
          challengeMac: await pinChallengeMac(finished.sessionKey, challenge.body.id, challenge.body.terms),
        },
        releaseKey: releaseKey.jwk,
      },
    );
    if (!approved.body.release) throw new Error(`approval failed: ${JSON.stringify(approved.body)}`);
    return Buffer.from((await openRelease(approved.body.release, releaseKey.privateKey)).kSrv).toString("base64url");
  }

  it("keeps only what it may: display facts, sealed records and K_srv wrapped under the KEK", async () => {
    const { card } = await payerWithCard();
    const [row] = await queryRows<Record<string, unknown>>(
      t.system.database.db,
      sql`select * from cards where id = ${card.cardId}`,
    );
    expect(row).toMatchObject({
      status: "active",
      last4: "0016",
      brand: "visa",
      record_version: 1,
      kek_version: t.system.keys.currentKeyVersion(),
    });
    const text = JSON.stringify(row);
    expect(text).not.toContain("4111000000000016");
    expect(text).not.toContain(card.kSrv);
    expect(text).not.toContain(Buffer.from(card.kSrv, "base64url").toString("hex"));
    const listed = await call<{ data: Array<Record<string, unknown>> }>(
      t.app,
      "GET",
      "/v1/payer/cards",
      (await signedInPayer(t.system)).token,
    );
    expect(listed.body.data).toEqual([]); // another payer sees none of it
  });

  it("refuses bad uploads and changes nothing: a malformed share or record, a rollback, another device's signature", async () => {
    const { session, device, card } = await payerWithCard();
    const other = await newTestDevice(t.app, session.token);
    const upload = (overrides: Record<string, unknown>) =>
      call<ErrorAnswer>(t.app, "POST", `/v1/payer/cards/${card.cardId}/records`, session.token, {
        sealedCard: card.sealedCard.replace(/^r1\.1\./, "r1.2."),
        recordVersion: 2,
        kSrv: card.kSrv,
        ...overrides,
      });
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ["short share", { kSrv: "AAAA" }, "card_records_invalid"],
      ["not base64url", { kSrv: "!".repeat(43) }, "card_records_invalid"],
      ["not a sealed record", { sealedCard: "<script>" }, "card_records_invalid"],
      // Signed for version 2, sent as version 1: the device's word does not cover it.
      ["a version the device did not sign", { recordVersion: 1 }, "device_signature_invalid"],
    ];
    for (const [why, overrides, code] of cases) {
      const answer = await upload({
        ...overrides,
        deviceSignature: await device.sign({
          purpose: "store-card-records",
          payerId: session.payerId,
          cardId: card.cardId,
          recordVersion: "2",
        }),
      });
      expect([answer.status >= 400 && answer.status < 500, answer.body.error.code], why).toEqual([true, code]);
    }
    const rolledBack = await call<ErrorAnswer>(t.app, "POST", `/v1/payer/cards/${card.cardId}/records`, session.token, {
      sealedCard: card.sealedCard,
      recordVersion: 1,
      kSrv: card.kSrv,
      deviceSignature: await device.sign({
        purpose: "store-card-records",
        payerId: session.payerId,
        cardId: card.cardId,
        recordVersion: "1",
      }),
    });
    expect(rolledBack.body.error.code).toBe("card_records_invalid");
    const stranger = await upload({
      deviceSignature: await other.sign({
        purpose: "store-card-records",
        payerId: session.payerId,
        cardId: card.cardId,
        recordVersion: "2",
      }),
    });
    expect(stranger.body.error.code).toBe("device_signature_invalid");
    const [row] = await queryRows<{ record_version: number }>(
      t.system.database.db,
      sql`select record_version from cards where id = ${card.cardId}`,
    );
    expect(row?.record_version).toBe(1);
    expect(await releasedShare(session, device, card)).toBe(card.kSrv);
  });

  it("removes a card on an active device's word only, and deletes its share and records", async () => {
    const { session, device, card } = await payerWithCard();
    const remove = async (signature: string) =>
      call<ErrorAnswer & { status?: string }>(t.app, "POST", `/v1/payer/cards/${card.cardId}/remove`, session.token, {
        deviceSignature: signature,
      });
    const stranger = await newTestDevice(t.app, session.token);
    expect(
      (await remove(await stranger.sign({ purpose: "remove-card", payerId: session.payerId, cardId: card.cardId })))
        .body.error.code,
    ).toBe("device_signature_invalid");
    expect(
      (await remove(await device.sign({ purpose: "remove-card", payerId: session.payerId, cardId: "card_other" }))).body
        .error.code,
    ).toBe("device_signature_invalid");
    const removed = await remove(
      await device.sign({ purpose: "remove-card", payerId: session.payerId, cardId: card.cardId }),
    );
    expect(removed.body.status).toBe("removed");
    const [row] = await queryRows<{ wrapped_k_srv: string | null; sealed_card: string | null }>(
      t.system.database.db,
      sql`select wrapped_k_srv, sealed_card from cards where id = ${card.cardId}`,
    );
    expect(row).toEqual({ wrapped_k_srv: null, sealed_card: null });
  });

  it("re-wraps every K_srv under a new KEK version while payments release cards, and loses none", async () => {
    const payers = await Promise.all(Array.from({ length: 4 }, () => payerWithCard()));
    const before = t.system.keys.currentKeyVersion();
    let stop = false;
    const released: string[] = [];
    const load = Promise.all(
      payers.map(async ({ session, device, card }) => {
        while (!stop) released.push((await releasedShare(session, device, card)) === card.kSrv ? "ok" : "wrong share");
      }),
    );
    const report = await rotateAndReseal({ db: t.system.database.db, keys: t.system.keys }, RESEALERS, {
      settleMs: 300,
    });
    stop = true;
    await load;
    expect(report.toVersion).toBe(before + 1);
    expect(report.left["cards.wrapped_k_srv"]).toBe(0);
    expect(report.resealed["cards.wrapped_k_srv"]).toBeGreaterThanOrEqual(payers.length);
    expect(await cardShareResealer.countBelow(t.system.database.db, report.toVersion)).toBe(0);
    expect(released.length).toBeGreaterThan(0);
    expect(new Set(released)).toEqual(new Set(["ok"]));
    for (const { session, device, card } of payers) expect(await releasedShare(session, device, card)).toBe(card.kSrv);
  });
});
