/**
 * Foreign-currency purchases over real HTTP on a real issuer database (issue 10, deliverable 5): a KRW card pays in
 * USD, JPY and EUR, billed in KRW at the reference rate plus the 1% fee; captures (partial too), voids and refunds
 * are converted at the authorization's rate, so a full refund gives back exactly what was billed; the PIN limit
 * counts the converted purchase, open-to-buy the billed amount; a mandate in USD is capped in USD; a currency the
 * issuer has no rate for is declined `currency_not_supported`. The back office shows both amounts.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizationRecordSchema,
  backofficeCardSchema,
  backofficeStatementSchema,
  recurringTokenSchema,
  type EnrolledCard,
} from "@mpay/protocol";
import { testCard } from "../cards/test-cards.ts";
import { newNonce, TestDevice } from "../testing/device.ts";
import { authorize, enroll, newPaymentId, paymentRequest, termsFor } from "../testing/flows.ts";
import { openTestHost, testBackends, type TestHost } from "../testing/host.ts";

const op = () => `iop_${randomBytes(8).toString("hex")}`;

describe.each(testBackends())("foreign-currency purchases on a KRW card [%s]", (backend) => {
  let host: TestHost;
  let device: TestDevice;
  let enrolled: EnrolledCard;
  const card = testCard("sampo", "mastercard");

  const view = async () =>
    backofficeCardSchema.parse((await host.operator(`/issuers/sampo/backoffice/cards/${enrolled.cardRef}`)).body);
  const statementLine = async (paymentId: string) => {
    const answer = await host.operator(`/issuers/sampo/backoffice/cards/${enrolled.cardRef}/authorizations`);
    expect(answer.status).toBe(200);
    const line = backofficeStatementSchema.parse(answer.body).authorizations.find((a) => a.paymentId === paymentId);
    if (!line) throw new Error(`${paymentId} is not on the statement`);
    return line;
  };
  const pay = async (amount: number, currency: string) => {
    const terms = termsFor(host, "sampo", enrolled.cardRef, { amount, currency });
    const answer = await authorize(host, "sampo", await paymentRequest(host, device, card, terms));
    return { paymentId: terms.paymentId, answer: answer.body };
  };
  const post = (paymentId: string, action: "capture" | "void" | "refunds", body: Record<string, unknown>) =>
    host.acquirer("POST", `/issuers/sampo/authorizations/${paymentId}/${action}`, body);
  const inquire = async (paymentId: string) =>
    authorizationRecordSchema.parse((await host.acquirer("GET", `/issuers/sampo/authorizations/${paymentId}`)).body);

  beforeAll(async () => {
    host = await openTestHost(backend);
    device = await TestDevice.create();
    enrolled = await enroll(host, "sampo", device, card);
  });
  afterAll(async () => {
    await host?.close();
  });

  it("approves 12.34 USD, bills 17,199 KRW (17,029 at 1380.00 + 170 fee) and holds that of open-to-buy", async () => {
    const before = (await view()).openToBuy;
    const { paymentId, answer } = await pay(1234, "USD");
    expect(answer).toMatchObject({ decision: "approved", authorizationCode: expect.stringMatching(/^[A-Z0-9]{6}$/) });
    const after = await view();
    expect(after.openToBuy).toBe(before - 17_199);
    expect(after.holds.find((h) => h.paymentId === paymentId)).toMatchObject({
      amount: 17_199,
      transactionAmount: 1234,
      transactionCurrency: "USD",
    });
    expect(after.books.balanced).toBe(true);
    // The acquirer asks and is answered in the purchase's currency.
    expect(await inquire(paymentId)).toMatchObject({ status: "approved", amount: 1234, currency: "USD" });
    expect(await statementLine(paymentId)).toMatchObject({
      status: "approved",
      transaction: { amount: 1234, currency: "USD", captured: 0, refunded: 0 },
      billing: { amount: 17_199, currency: "KRW", held: 17_199, captured: 0, refunded: 0 },
      fx: { rate: "1380.00", feeBps: 100 },
    });
  });

  it("captures part in USD at the authorization's rate, then refunds all of it in two parts to the won", async () => {
    const start = (await view()).openToBuy;
    const { paymentId } = await pay(2000, "USD"); // 27,600 + 276 = 27,876 KRW held
    expect((await view()).openToBuy).toBe(start - 27_876);
    const captured = await post(paymentId, "capture", { operationId: op(), amount: 1000 });
    expect(captured.body).toMatchObject({
      type: "capture",
      amount: 1000,
      authorization: { status: "captured", amountCaptured: 1000, currency: "USD" },
    });
    // 10.00 USD → 13,800 + 138 = 13,938 KRW captured; the rest of the hold is back.
    expect((await view()).openToBuy).toBe(start - 13_938);
    expect(await statementLine(paymentId)).toMatchObject({
      billing: { amount: 27_876, held: 0, captured: 13_938, refunded: 0 },
    });
    // 3.33 USD: 4,595.4 → 4,595 + 46 = 4,641 KRW back; then the 6.67 USD left gives back exactly the rest.
    await post(paymentId, "refunds", { operationId: op(), amount: 333 });
    expect((await view()).openToBuy).toBe(start - 13_938 + 4_641);
    const last = await post(paymentId, "refunds", { operationId: op(), amount: 667 });
    expect(last.body).toMatchObject({ amount: 667, authorization: { amountRefunded: 1000, currency: "USD" } });
    expect((await view()).openToBuy).toBe(start);
    expect(await statementLine(paymentId)).toMatchObject({
      transaction: { captured: 1000, refunded: 1000 },
      billing: { captured: 13_938, refunded: 13_938 },
    });
    expect((await post(paymentId, "refunds", { operationId: op(), amount: 1 })).body).toMatchObject({
      error: { code: "amount_exceeds_captured" },
    });
    expect((await view()).books.balanced).toBe(true);
  });

  it("voids a foreign-currency authorization by releasing exactly the billed hold", async () => {
    const start = (await view()).openToBuy;
    const { paymentId } = await pay(10_050, "EUR"); // 100.50 € × 1495.50 = 150,297.75 → 150,298 + 1,503
    expect((await view()).openToBuy).toBe(start - 151_801);
    expect((await post(paymentId, "void", { operationId: op() })).body).toMatchObject({
      type: "void",
      amount: 10_050,
      authorization: { status: "voided" },
    });
    expect((await view()).openToBuy).toBe(start);
  });

  it("rounds yen to whole won half up: 2 JPY is 18.5 → 19 KRW, 1,001 JPY is 9,259 + 93 fee", async () => {
    const start = (await view()).openToBuy;
    const two = await pay(2, "JPY");
    expect(two.answer).toMatchObject({ decision: "approved" });
    expect(await statementLine(two.paymentId)).toMatchObject({
      transaction: { amount: 2, currency: "JPY" },
      billing: { amount: 19, currency: "KRW" }, // 1% of 19 is 0.19 → no fee
      fx: { rate: "9.25", feeBps: 100 },
    });
    const more = await pay(1001, "JPY");
    expect(await statementLine(more.paymentId)).toMatchObject({ billing: { amount: 9_352 } });
    expect((await view()).openToBuy).toBe(start - 19 - 9_352);
    await post(more.paymentId, "capture", { operationId: op(), amount: 1001 });
    await post(more.paymentId, "refunds", { operationId: op(), amount: 1001 });
    await post(two.paymentId, "void", { operationId: op() });
    expect((await view()).openToBuy).toBe(start);
  });

  it("counts the converted purchase against the PIN limit, and the billed amount against open-to-buy", async () => {
    // 1,450.00 USD is 2,001,000 KRW: over the PIN's 2,000,000. 1,449.00 USD is 1,999,620 KRW (billed 2,019,616).
    expect((await pay(145_000, "USD")).answer).toMatchObject({ declineCode: "authentication_failed" });
    const under = await pay(144_900, "USD");
    expect(under.answer).toMatchObject({ decision: "approved" });
    expect(await statementLine(under.paymentId)).toMatchObject({ billing: { amount: 2_019_616 } });
    await post(under.paymentId, "void", { operationId: op() });
  });

  it("declines on the low-limit card what is billed above its 30,000 KRW, fee included", async () => {
    const low = testCard("sampo", "lowLimit");
    const lowCard = await enroll(host, "sampo", device, low);
    const pay = async (amount: number) => {
      const terms = termsFor(host, "sampo", lowCard.cardRef, { amount, currency: "USD" });
      return (await authorize(host, "sampo", await paymentRequest(host, device, low, terms))).body;
    };
    // 22.00 USD is 30,360 KRW + 304 fee = 30,664; 21.73 USD is 29,987.4 → 29,987 + 300 = 30,287 (the purchase
    // fits, its fee does not); 21.00 USD is 28,980 + 290 = 29,270.
    expect(await pay(2200)).toMatchObject({ declineCode: "insufficient_funds" });
    expect(await pay(2173)).toMatchObject({ declineCode: "insufficient_funds" });
    expect(await pay(2100)).toMatchObject({ decision: "approved" });
  });

  it("declines a currency the issuer has no rate for as currency_not_supported, holding nothing", async () => {
    const before = (await view()).openToBuy;
    const { paymentId, answer } = await pay(1000, "CHF");
    expect(answer).toMatchObject({ decision: "declined", declineCode: "currency_not_supported" });
    expect((await view()).openToBuy).toBe(before);
    expect(await statementLine(paymentId)).toMatchObject({
      status: "declined",
      declineCode: "currency_not_supported",
      transaction: { amount: 1000, currency: "CHF" },
      billing: null,
      fx: null,
    });
  });

  it("keeps a USD mandate's cap in USD and bills each charge in KRW", async () => {
    const issued = await host.acquirer("POST", "/issuers/sampo/recurring-tokens", {
      mandate: await device.mandate(
        host.certificate("sampo"),
        {
          aud: "sampo",
          cardRef: enrolled.cardRef,
          merchantId: "mch_stream",
          merchantName: "Stream Abroad",
          maxAmount: 1_000,
          period: { interval: "month", maxCharges: 2, maxTotal: 1_500 },
          currency: "USD",
          expiresAt: host.clock.seconds() + 30 * 24 * 3600,
          nonce: newNonce(),
          iat: host.clock.seconds(),
        },
        card,
      ),
      payerRef: "usr_stream",
    });
    expect(issued.status).toBe(201);
    const token = recurringTokenSchema.parse(issued.body).token;
    const charge = (amount: number, currency = "USD") =>
      authorize(host, "sampo", {
        paymentId: newPaymentId(),
        merchantId: "mch_stream",
        merchantName: "Stream Abroad",
        amount,
        currency,
        captureMethod: "automatic",
        recurringToken: token,
      });
    expect((await charge(1_001)).body).toMatchObject({ declineCode: "token_over_cap" });
    expect((await charge(1_000, "KRW")).body).toMatchObject({ declineCode: "token_invalid" });
    const first = await charge(1_000);
    expect(first.body).toMatchObject({ decision: "approved" });
    expect(await statementLine(first.body.paymentId)).toMatchObject({ billing: { amount: 13_938, currency: "KRW" } });
    // The period's total is in USD as signed: 10.00 + 5.01 is over 15.00.
    expect((await charge(501)).body).toMatchObject({ declineCode: "mandate_limit_exceeded" });
    expect((await charge(500)).body).toMatchObject({ decision: "approved" });
    const mandate = (await view()).recurringTokens.find((t) => t.merchantId === "mch_stream");
    expect(mandate).toMatchObject({ currency: "USD", maxAmount: 1_000, thisPeriod: { charges: 2, total: 1_500 } });
  });

  it("refuses a mandate in a currency the issuer does not convert", async () => {
    const refused = await host.acquirer("POST", "/issuers/sampo/recurring-tokens", {
      mandate: await device.mandate(
        host.certificate("sampo"),
        {
          aud: "sampo",
          cardRef: enrolled.cardRef,
          merchantId: "mch_stream",
          merchantName: "Stream Abroad",
          maxAmount: 1_000,
          period: { interval: "month", maxCharges: 2, maxTotal: 1_500 },
          currency: "CHF",
          expiresAt: host.clock.seconds() + 30 * 24 * 3600,
          nonce: newNonce(),
          iat: host.clock.seconds(),
        },
        card,
      ),
      payerRef: "usr_stream",
    });
    expect(refused.body).toMatchObject({ error: { code: "mandate_refused" } });
    const books = await host.operator<{ balanced: boolean }>("/issuers/sampo/backoffice/books");
    expect(books.body.balanced).toBe(true);
    expect(
      (await host.acquirer("GET", `/issuers/sampo/backoffice/cards/${enrolled.cardRef}/authorizations`)).status,
    ).toBe(401);
  });
});

describe.each(testBackends())("a currency missing from the issuer's table [%s]", (backend) => {
  let host: TestHost;
  afterAll(async () => {
    await host?.close();
  });

  it("is declined currency_not_supported even when MPay accepts it, and a fee of 0 bills the rate alone", async () => {
    host = await openTestHost(backend, { overrides: { fx: { rates: { KRW: { USD: "1380.00" } }, feeBps: 0 } } });
    const device = await TestDevice.create();
    const card = testCard("sampo", "approves");
    const enrolled = await enroll(host, "sampo", device, card);
    const pay = async (amount: number, currency: string) => {
      const terms = termsFor(host, "sampo", enrolled.cardRef, { amount, currency });
      return { terms, answer: (await authorize(host, "sampo", await paymentRequest(host, device, card, terms))).body };
    };
    expect((await pay(1000, "EUR")).answer).toMatchObject({ declineCode: "currency_not_supported" });
    const usd = await pay(1234, "USD");
    expect(usd.answer).toMatchObject({ decision: "approved" });
    const statement = backofficeStatementSchema.parse(
      (await host.operator(`/issuers/sampo/backoffice/cards/${enrolled.cardRef}/authorizations`)).body,
    );
    expect(statement.authorizations.find((a) => a.paymentId === usd.terms.paymentId)).toMatchObject({
      billing: { amount: 17_029 },
      fx: { rate: "1380.00", feeBps: 0 },
    });
  });
});
