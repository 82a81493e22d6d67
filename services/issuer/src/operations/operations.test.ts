/**
 * Captures, voids and refunds over real HTTP: their rules, idempotency by operation id, the issuer's books after a
 * mixed sequence, and the settlement file of the day.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { backofficeCardSchema, issuerOperationAnswerSchema, type EnrolledCard } from "@mpay/protocol";
import { checkBooks } from "../backoffice/books.ts";
import { cardAccounts } from "../cards/schema.ts";
import { testCard } from "../cards/test-cards.ts";
import { TestDevice } from "../testing/device.ts";
import { enroll } from "../testing/flows.ts";
import { openTestHost, testBackends, type TestHost } from "../testing/host.ts";
import { approvedPayment } from "../testing/payments.ts";

const op = () => `iop_${randomBytes(8).toString("hex")}`;

describe.each(testBackends())("captures, voids and refunds [%s]", (backend) => {
  let host: TestHost;
  let device: TestDevice;
  let enrolled: EnrolledCard;
  const card = testCard("sampo", "mastercard");
  const pay = (options: { amount?: number; merchantId?: string; merchantName?: string } = {}) =>
    approvedPayment(host, device, card, enrolled, options);
  const post = (paymentId: string, action: "capture" | "void" | "refunds", body: Record<string, unknown>) =>
    host.acquirer("POST", `/issuers/sampo/authorizations/${paymentId}/${action}`, body);
  const view = async () =>
    backofficeCardSchema.parse((await host.operator(`/issuers/sampo/backoffice/cards/${enrolled.cardRef}`)).body);

  beforeAll(async () => {
    host = await openTestHost(backend);
    device = await TestDevice.create();
    enrolled = await enroll(host, "sampo", device, card);
  });
  afterAll(async () => {
    await host?.close();
  });

  it("captures part of an authorization once, releases the rest, and answers a retry the same", async () => {
    const start = (await view()).openToBuy;
    const paymentId = await pay({ amount: 50_000 });
    const operationId = op();
    const captured = await post(paymentId, "capture", { operationId, amount: 40_000 });
    expect(captured.status).toBe(200);
    const answer = issuerOperationAnswerSchema.parse(captured.body);
    expect(answer).toMatchObject({
      operationId,
      paymentId,
      type: "capture",
      amount: 40_000,
      authorization: { status: "captured", amountCaptured: 40_000 },
    });
    expect((await view()).openToBuy).toBe(start - 40_000);

    expect((await post(paymentId, "capture", { operationId, amount: 40_000 })).body).toEqual(captured.body);
    expect((await view()).openToBuy).toBe(start - 40_000);
    expect((await post(paymentId, "capture", { operationId: op(), amount: 10_000 })).body).toMatchObject({
      error: { code: "operation_not_allowed" },
    });
    expect((await post(paymentId, "capture", { operationId, amount: 30_000 })).body).toMatchObject({
      error: { code: "operation_not_allowed" },
    });
    expect((await post(paymentId, "void", { operationId: op() })).body).toMatchObject({
      error: { code: "operation_not_allowed" },
    });
  });

  it("refuses a capture above the authorized amount, and operations on payments it never saw or declined", async () => {
    const paymentId = await pay({ amount: 20_000 });
    const over = await post(paymentId, "capture", { operationId: op(), amount: 20_001 });
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ error: { code: "amount_exceeds_authorized" } });
    expect((await post("pay_unknown", "capture", { operationId: op(), amount: 1 })).body).toMatchObject({
      error: { code: "authorization_not_found" },
    });
    expect((await post(paymentId, "refunds", { operationId: op(), amount: 1 })).body).toMatchObject({
      error: { code: "operation_not_allowed" },
    });
    expect((await post(paymentId, "capture", { operationId: op(), amount: 0 })).body).toMatchObject({
      error: { code: "request_invalid" },
    });
  });

  it("voids before capture, releasing the whole hold, once", async () => {
    const start = (await view()).openToBuy;
    const paymentId = await pay({ amount: 70_000 });
    expect((await view()).openToBuy).toBe(start - 70_000);
    const operationId = op();
    const voided = await post(paymentId, "void", { operationId });
    expect(voided.body).toMatchObject({ type: "void", amount: 70_000, authorization: { status: "voided" } });
    expect((await post(paymentId, "void", { operationId })).body).toEqual(voided.body);
    expect((await view()).openToBuy).toBe(start);
    expect((await post(paymentId, "capture", { operationId: op(), amount: 70_000 })).body).toMatchObject({
      error: { code: "operation_not_allowed" },
    });
  });

  it("refunds up to the captured amount in parts, each once, restoring open-to-buy", async () => {
    const paymentId = await pay({ amount: 35_000 });
    await post(paymentId, "capture", { operationId: op(), amount: 35_000 });
    const afterCapture = (await view()).openToBuy;
    const first = op();
    const refund = await post(paymentId, "refunds", { operationId: first, amount: 5_000 });
    expect(refund.body).toMatchObject({
      type: "refund",
      amount: 5_000,
      authorization: { amountRefunded: 5_000, status: "captured" },
    });
    const [retryA, retryB] = await Promise.all([
      post(paymentId, "refunds", { operationId: first, amount: 5_000 }),
      post(paymentId, "refunds", { operationId: first, amount: 5_000 }),
    ]);
    expect(retryA.body).toEqual(refund.body);
    expect(retryB.body).toEqual(refund.body);
    expect((await view()).openToBuy).toBe(afterCapture + 5_000);
    const over = await post(paymentId, "refunds", { operationId: op(), amount: 30_001 });
    expect(over.body).toMatchObject({ error: { code: "amount_exceeds_captured" } });
    const rest = await post(paymentId, "refunds", { operationId: op(), amount: 30_000 });
    expect(rest.body).toMatchObject({ authorization: { amountRefunded: 35_000 } });
    expect((await post(paymentId, "refunds", { operationId: op(), amount: 1 })).body).toMatchObject({
      error: { code: "amount_exceeds_captured" },
    });
    expect((await view()).openToBuy).toBe(afterCapture + 35_000);
  });

  it("keeps the books balanced after a mixed sequence, concurrent operations included", async () => {
    const payments = await Promise.all([
      pay({ amount: 11_000 }),
      pay({ amount: 22_000 }),
      pay({ amount: 33_000 }),
      pay({ amount: 44_000 }),
    ]);
    const [a, b, c, d] = payments as [string, string, string, string];
    const capture = op();
    await Promise.all([
      post(a, "capture", { operationId: capture, amount: 10_000 }),
      post(a, "capture", { operationId: capture, amount: 10_000 }),
      post(a, "capture", { operationId: op(), amount: 11_000 }),
      post(b, "void", { operationId: op() }),
      post(c, "capture", { operationId: op(), amount: 33_000 }),
    ]);
    await Promise.all([
      post(c, "refunds", { operationId: op(), amount: 20_000 }),
      post(c, "refunds", { operationId: op(), amount: 20_000 }),
    ]);
    const card = await view();
    expect(card.books.balanced).toBe(true);
    expect(card.creditLimit - card.openToBuy).toBe(card.books.holds + card.captured - card.refunded);
    expect(card.holds.map((h) => h.paymentId)).toContain(d);
    const inquire = async (paymentId: string) =>
      (
        await host.acquirer<{ amountCaptured: number; amountRefunded: number }>(
          "GET",
          `/issuers/sampo/authorizations/${paymentId}`,
        )
      ).body;
    expect([10_000, 11_000]).toContain((await inquire(a)).amountCaptured);
    expect((await inquire(c)).amountRefunded).toBe(20_000);
    const books = await host.operator<{ balanced: boolean; cards: number; imbalances: unknown[] }>(
      "/issuers/sampo/backoffice/books",
    );
    expect(books.body).toMatchObject({ balanced: true, imbalances: [] });
    expect(books.body.cards).toBe(7);
    expect((await host.acquirer("GET", `/issuers/sampo/backoffice/books`)).status).toBe(401);
  });

  it("finds a card whose books do not balance", async () => {
    const { db } = host.server.host.get("sampo");
    expect((await checkBooks(db)).balanced).toBe(true);
    await db
      .update(cardAccounts)
      .set({ openToBuy: sql`${cardAccounts.openToBuy} + 1` })
      .where(eq(cardAccounts.cardRef, enrolled.cardRef));
    const broken = await checkBooks(db);
    expect(broken).toMatchObject({ balanced: false, imbalances: [{ cardRef: enrolled.cardRef, balanced: false }] });
    expect((await view()).books.balanced).toBe(false);
    await db
      .update(cardAccounts)
      .set({ openToBuy: sql`${cardAccounts.openToBuy} - 1` })
      .where(eq(cardAccounts.cardRef, enrolled.cardRef));
    expect((await checkBooks(db)).balanced).toBe(true);
  });

  it("writes the day's captures and refunds per merchant, with totals, in the settlement file", async () => {
    const mall = await pay({ amount: 35_000, merchantId: "mch_mall", merchantName: 'Mall, "Best"' });
    const shop = await pay({ amount: 12_000, merchantId: "mch_shop", merchantName: "=HYPERLINK(1)" });
    await post(mall, "capture", { operationId: "iop_mall_capture", amount: 35_000 });
    await post(mall, "refunds", { operationId: "iop_mall_refund", amount: 5_000 });
    await post(shop, "capture", { operationId: "iop_shop_capture", amount: 12_000 });
    const today = host.clock.now().toISOString().slice(0, 10);
    const open = await host.acquirer("GET", `/issuers/sampo/settlements/${today}`);
    expect(open.status).toBe(200);
    expect(open.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(open.headers.get("x-settlement-final")).toBe("false");
    const lines = open.text.trim().split("\r\n");
    expect(lines[0]).toBe(
      "record_type,settlement_date,merchant_id,merchant_name,payment_id,operation_id,operation,authorization_code,currency,captured,refunded,net,processed_at",
    );
    const mallLines = lines.filter((l) => l.includes(",mch_mall,"));
    expect(mallLines.map((l) => l.split(",")[0])).toEqual(["detail", "detail", "merchant_total"]);
    expect(mallLines[0]).toContain(`,"Mall, ""Best""",${mall},iop_mall_capture,capture,`);
    expect(mallLines[1]).toMatch(/,iop_mall_refund,refund,[A-Z0-9]{6},KRW,0,5000,-5000,/);
    expect(mallLines[2]).toBe(`merchant_total,${today},mch_mall,"Mall, ""Best""",,,,,KRW,35000,5000,30000,`);
    expect(lines.find((l) => l.startsWith("merchant_total") && l.includes("mch_shop"))).toBe(
      `merchant_total,${today},mch_shop,'=HYPERLINK(1),,,,,KRW,12000,0,12000,`,
    );
    const fileTotal = lines.at(-1)!.split(",");
    expect(fileTotal[0]).toBe("file_total");
    const details = lines.filter((l) => l.startsWith("detail")).map((l) => l.split(","));
    const net = details.reduce((sum, cells) => sum + Number(cells.at(-2)), 0);
    expect(Number(fileTotal.at(-2))).toBe(net);

    // Once the day is over the file is final, and the daily job has written it to the issuer's data folder.
    host.clock.advance(24 * 3600);
    await host.server.host.sweep();
    const written = await readFile(join(host.config.dataDir, "sampo", "settlements", `${today}.csv`), "utf8");
    expect(written).toBe(open.text);
    const closed = await host.acquirer("GET", `/issuers/sampo/settlements/${today}`);
    expect(closed.headers.get("x-settlement-final")).toBe("true");
    expect((await host.acquirer("GET", "/issuers/sampo/settlements/2026-02-30")).body).toMatchObject({
      error: { code: "request_invalid" },
    });
  });
});
