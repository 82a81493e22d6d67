/**
 * Card-on-file tokens: issued from a device-signed mandate, charged within their merchant and the schedule the
 * payer signed (cap per charge, count and total per period, end date), revoked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backofficeCardSchema,
  periodStart,
  recurringTokenSchema,
  type EnrolledCard,
  type MandateTerms,
} from "@mpay/protocol";
import { eq } from "drizzle-orm";
import { testCard } from "../cards/test-cards.ts";
import { recurringTokens } from "./schema.ts";
import { tokenHashOf } from "./store.ts";
import { newNonce, TestDevice } from "../testing/device.ts";
import { authorize, enroll, newPaymentId } from "../testing/flows.ts";
import { openTestHost, testBackends, type TestHost } from "../testing/host.ts";

describe.each(testBackends())("recurring tokens [%s]", (backend) => {
  let host: TestHost;
  let device: TestDevice;
  let enrolled: EnrolledCard;
  const card = testCard("sampo", "approves");

  const mandate = (overrides: Partial<MandateTerms> = {}): MandateTerms => ({
    aud: "sampo",
    cardRef: enrolled.cardRef,
    merchantId: "mch_music",
    merchantName: "Music Monthly",
    maxAmount: 15_000,
    period: { interval: "month", maxCharges: 10, maxTotal: 150_000 },
    currency: "KRW",
    expiresAt: host.clock.seconds() + 30 * 24 * 3600,
    nonce: newNonce(),
    iat: host.clock.seconds(),
    ...overrides,
  });
  const withoutPeriod = ({ period: _period, ...rest }: MandateTerms): MandateTerms => rest as MandateTerms;
  const issue = async (
    terms: MandateTerms,
    signer: TestDevice = device,
    cardData: { pan: string; expiry: string } = card,
  ) =>
    host.acquirer("POST", "/issuers/sampo/recurring-tokens", {
      mandate: await signer.mandate(host.certificate("sampo"), terms, cardData),
      payerRef: "usr_music",
    });
  const charge = (token: string, overrides: Record<string, unknown> = {}) =>
    authorize(host, "sampo", {
      paymentId: newPaymentId(),
      merchantId: "mch_music",
      merchantName: "Music Monthly",
      amount: 9_900,
      currency: "KRW",
      captureMethod: "automatic",
      recurringToken: token,
      ...overrides,
    });

  beforeAll(async () => {
    // Connections enough for the concurrent charges below to reach PostgreSQL at once.
    host = await openTestHost(backend, { overrides: { dbPoolSize: 8 } });
    device = await TestDevice.create();
    enrolled = await enroll(host, "sampo", device, card);
  });
  afterAll(async () => {
    await host?.close();
  });

  it("issues a merchant-bound token and charges it within its cap, for its merchant only", async () => {
    const issued = await issue(mandate());
    expect(issued.status).toBe(201);
    const token = recurringTokenSchema.parse(issued.body);
    expect(token).toMatchObject({
      cardRef: enrolled.cardRef,
      merchantId: "mch_music",
      maxAmount: 15_000,
      period: { interval: "month", maxCharges: 10, maxTotal: 150_000 },
      currency: "KRW",
    });
    expect(token.token).toMatch(/^rtk_[A-Za-z0-9_-]{43}$/);

    expect((await charge(token.token)).body).toMatchObject({ decision: "approved" });
    expect((await charge(token.token, { amount: 15_000 })).body).toMatchObject({ decision: "approved" });
    expect((await charge(token.token, { amount: 15_001 })).body).toMatchObject({
      decision: "declined",
      declineCode: "token_over_cap",
    });
    expect((await charge(token.token, { merchantId: "mch_other" })).body).toMatchObject({
      declineCode: "token_invalid",
    });
    expect((await charge(token.token, { currency: "USD" })).body).toMatchObject({ declineCode: "token_invalid" });
    expect((await charge("rtk_" + "A".repeat(43))).body).toMatchObject({ declineCode: "token_invalid" });
  });

  it("declines a token after its expiry, and after the payer revokes it", async () => {
    const shortLived = recurringTokenSchema.parse(
      (await issue(mandate({ expiresAt: host.clock.seconds() + 3600 }))).body,
    );
    const revocable = recurringTokenSchema.parse((await issue(mandate())).body);
    const revoked = await host.acquirer("POST", `/issuers/sampo/recurring-tokens/${revocable.token}/revoke`, {});
    expect(revoked.body).toEqual({ revoked: true, revokedAt: expect.any(String) });
    expect((await host.acquirer("POST", `/issuers/sampo/recurring-tokens/${revocable.token}/revoke`, {})).body).toEqual(
      revoked.body,
    );
    expect((await charge(revocable.token)).body).toMatchObject({ declineCode: "token_invalid" });
    expect(
      (await host.acquirer("POST", `/issuers/sampo/recurring-tokens/rtk_${"B".repeat(43)}/revoke`, {})).body,
    ).toMatchObject({ error: { code: "token_not_found" } });

    host.clock.advance(3601);
    expect((await charge(shortLived.token)).body).toMatchObject({ declineCode: "token_expired" });
  });

  it("refuses a mandate that is replayed, stale, unsigned by a bound device, for another card or issuer", async () => {
    const once = mandate();
    expect((await issue(once)).status).toBe(201);
    const refusals = [
      await issue(once),
      await issue(mandate({ iat: host.clock.seconds() - 600 })),
      await issue(mandate(), await TestDevice.create()),
      await issue(mandate(), device, testCard("sampo", "mastercard")),
      await issue(mandate({ aud: "kstar" })),
      await issue(mandate({ expiresAt: host.clock.seconds() - 1 })),
      await issue(mandate({ expiresAt: host.clock.seconds() + 5 * 366 * 86_400 })),
      // A schedule the payer did not sign in full, or one that bounds nothing.
      await issue(withoutPeriod(mandate())),
      await issue(mandate({ period: { interval: "month", maxCharges: 2, maxTotal: 14_999 } })),
      await issue(mandate({ period: { interval: "month", maxCharges: 2, maxTotal: 30_001 } })),
      await issue(mandate({ period: { interval: "month", maxCharges: 0, maxTotal: 15_000 } })),
      await issue(mandate({ period: { interval: "month", maxCharges: 101, maxTotal: 15_000 } })),
      await issue(
        mandate({ period: { interval: "year", maxCharges: 1, maxTotal: 15_000 } as unknown as MandateTerms["period"] }),
      ),
      await host.acquirer("POST", "/issuers/sampo/recurring-tokens", { mandate: "a.b.c.d.e", payerRef: "usr_music" }),
    ];
    for (const refusal of refusals) {
      expect(refusal.status).toBe(422);
      expect(refusal.body).toEqual({
        error: {
          code: "mandate_refused",
          message: "The card-on-file mandate could not be accepted. Ask the payer to approve it again.",
        },
      });
    }
  });

  const tokenOf = async (
    terms: MandateTerms,
    signer: TestDevice = device,
    cardData: { pan: string; expiry: string } = card,
  ) => {
    const issued = await issue(terms, signer, cardData);
    expect(issued.status, issued.text).toBe(201);
    return recurringTokenSchema.parse(issued.body).token;
  };
  const tokenUsage = async (cardRef: string, merchantId: string) => {
    const view = backofficeCardSchema.parse((await host.operator(`/issuers/sampo/backoffice/cards/${cardRef}`)).body);
    return view.recurringTokens.filter((t) => t.merchantId === merchantId).map((t) => t.thisPeriod);
  };

  /** Moves the issuer's clock a minute into the next period, so no period ends halfway through a test. */
  const enterNextPeriod = (interval: "day" | "week") => {
    const now = host.clock.now();
    const next = periodStart(interval, new Date(now.getTime() + (interval === "day" ? 1 : 7) * 86_400_000));
    host.clock.advance(Math.ceil((next.getTime() - now.getTime()) / 1000) + 60);
  };

  it("holds charges to the count and the total per period that the payer signed, and opens the next period on the issuer's clock", async () => {
    enterNextPeriod("day");
    // Two charges a day, 20,000 KRW a day in all, at most 15,000 each.
    const token = await tokenOf(
      mandate({ merchantId: "mch_daily", period: { interval: "day", maxCharges: 2, maxTotal: 20_000 } }),
    );
    const daily = (amount: number) =>
      charge(token, { merchantId: "mch_daily", amount }).then(
        (a) => a.body as { decision: string; declineCode?: string },
      );
    expect(await daily(15_000)).toMatchObject({ decision: "approved" });
    // Within the cap per charge and the count, but over the day's total.
    expect(await daily(5_001)).toMatchObject({ decision: "declined", declineCode: "mandate_limit_exceeded" });
    expect(await daily(5_000)).toMatchObject({ decision: "approved" });
    // The count is reached: even the smallest charge waits for the next day.
    expect(await daily(1)).toMatchObject({ decision: "declined", declineCode: "mandate_limit_exceeded" });
    expect(await tokenUsage(enrolled.cardRef, "mch_daily")).toEqual([
      { start: expect.any(String), charges: 2, total: 20_000 },
    ]);

    host.clock.advance(86_400);
    expect(await daily(15_000)).toMatchObject({ decision: "approved" });
    expect(await daily(15_000)).toMatchObject({ decision: "declined", declineCode: "mandate_limit_exceeded" });
    expect(await tokenUsage(enrolled.cardRef, "mch_daily")).toEqual([
      { start: expect.any(String), charges: 1, total: 15_000 },
    ]);
  });

  it("lets exactly the period's count through when charges arrive at once", async () => {
    enterNextPeriod("week");
    const token = await tokenOf(
      mandate({
        merchantId: "mch_burst",
        maxAmount: 1_000,
        period: { interval: "week", maxCharges: 5, maxTotal: 5_000 },
      }),
    );
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => charge(token, { merchantId: "mch_burst", amount: 1_000 })),
    );
    const decisions = answers.map(
      (a) =>
        (a.body as { decision: string; declineCode?: string }).declineCode ?? (a.body as { decision: string }).decision,
    );
    expect(decisions.filter((d) => d === "approved")).toHaveLength(5);
    expect(decisions.filter((d) => d === "mandate_limit_exceeded")).toHaveLength(15);
    expect(await tokenUsage(enrolled.cardRef, "mch_burst")).toEqual([
      { start: expect.any(String), charges: 5, total: 5_000 },
    ]);
  });

  it("spends no slot on a charge the card declines", async () => {
    const low = testCard("sampo", "lowLimit");
    const lowCard = await enroll(host, "sampo", device, low);
    const token = await tokenOf(
      mandate({
        cardRef: lowCard.cardRef,
        merchantId: "mch_once",
        maxAmount: 40_000,
        period: { interval: "month", maxCharges: 1, maxTotal: 40_000 },
      }),
      device,
      low,
    );
    // Over the card's open-to-buy (30,000): declined by the card, so the month's one charge is still there.
    expect((await charge(token, { merchantId: "mch_once", amount: 35_000 })).body).toMatchObject({
      declineCode: "insufficient_funds",
    });
    expect((await charge(token, { merchantId: "mch_once", amount: 20_000 })).body).toMatchObject({
      decision: "approved",
    });
    expect((await charge(token, { merchantId: "mch_once", amount: 1_000 })).body).toMatchObject({
      declineCode: "mandate_limit_exceeded",
    });
  });

  it("declines a token that carries no schedule signed by the payer", async () => {
    const token = await tokenOf(mandate({ merchantId: "mch_legacy" }));
    // As a token issued before schedules were signed stands in the database: no consent to hold it to.
    await host.server.host
      .get("sampo")
      .db.update(recurringTokens)
      .set({ consent: null })
      .where(eq(recurringTokens.tokenHash, tokenHashOf(token)));
    expect((await charge(token, { merchantId: "mch_legacy", amount: 100 })).body).toMatchObject({
      decision: "declined",
      declineCode: "token_invalid",
    });
  });

  it("keeps a token charging the card's own status and open-to-buy", async () => {
    const lost = testCard("sampo", "lost");
    const lostCard = await enroll(host, "sampo", device, lost);
    const token = recurringTokenSchema.parse((await issue(mandate({ cardRef: lostCard.cardRef }), device, lost)).body);
    expect((await charge(token.token)).body).toMatchObject({ declineCode: "lost_or_stolen" });
  });
});
