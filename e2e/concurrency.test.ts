/**
 * Concurrency across processes (DESIGN.md "Storage": no double capture, no refund over the captured amount, one
 * effect per Idempotency-Key), on real PostgreSQL with two pay-server processes sharing one database. Every
 * burst is fired at once and alternates between the two servers, so the races are decided by the database and not
 * by one process's event loop.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq, sql } from "drizzle-orm";
import type { PaySystem } from "../services/pay/src/system.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "../services/pay/src/testing/databases.ts";
import { ledgerTransactions } from "../services/pay/src/ledger/schema.ts";
import { payments } from "../services/pay/src/payments/schema.ts";
import { refunds } from "../services/pay/src/refunds/schema.ts";
import { queryRows } from "../services/pay/src/db/client.ts";
import type { PaymentView } from "../services/pay/src/payments/view.ts";
import type { RefundView } from "../services/pay/src/refunds/view.ts";
import { startPayProcess, type PayProcess } from "./support/pay-process.ts";
import { api, errorCode, type HttpAnswer } from "./support/http.ts";
import {
  authorizeThroughService,
  createMerchant,
  openTestSystem,
  paymentBody,
  type CreatedMerchant,
} from "./support/pay-system.ts";

const BURST = 50;

// Two servers on one database need PostgreSQL (a PGlite folder has one owner): this file runs where DATABASE_URL is
// set (always in CI); elsewhere vitest reports it skipped rather than failing a file with no suite.
describe.runIf(testBackends().includes("postgres"))("two pay servers on one database [postgres]", () => {
  let database: FreshDatabase;
  let dataDir: string;
  let system: PaySystem;
  let merchant: CreatedMerchant;
  const servers: PayProcess[] = [];
  let run = 0;

  /** The URL of server i % 2, so that a burst alternates between the two processes. */
  const serverUrl = (i: number): string => servers[i % servers.length]!.url;
  const post = <T = Record<string, unknown>>(
    i: number,
    path: string,
    body: unknown,
    key: string,
  ): Promise<HttpAnswer<T>> => api<T>(serverUrl(i), "POST", path, merchant.secretKey, body, { "idempotency-key": key });
  const uniqueKey = (label: string): string => `${label}-${++run}-${Date.now()}`;

  async function capturedPayment(amount: number, orderId: string): Promise<PaymentView> {
    const created = await post<PaymentView>(0, "/v1/payments", paymentBody({ amount, orderId }), uniqueKey("create"));
    expect(created.status).toBe(200);
    await authorizeThroughService(system, created.body.id);
    const captured = await post<PaymentView>(1, `/v1/payments/${created.body.id}/capture`, {}, uniqueKey("capture"));
    expect(captured.status).toBe(200);
    expect(captured.body.amountCaptured).toBe(amount);
    return captured.body;
  }

  beforeAll(async () => {
    database = await freshDatabase("postgres");
    dataDir = await mkdtemp(join(tmpdir(), "mpay-e2e-concurrency-"));
    // First: it migrates and creates the dev key file that both server processes then read.
    system = await openTestSystem({ databaseUrl: database.url, dataDir });
    merchant = await createMerchant(system, "Concurrency Shop");
    const env = { DATABASE_URL: database.url!, MPAY_DATA_DIR: dataDir, MPAY_DB_POOL: "8", MPAY_WORKERS: "off" };
    servers.push(...(await Promise.all([startPayProcess(env), startPayProcess(env)])));
  });

  afterAll(async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await system?.close();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("captures an authorized payment once under 50 concurrent captures", async () => {
    const created = await post<PaymentView>(
      0,
      "/v1/payments",
      paymentBody({ orderId: "capture-race" }),
      uniqueKey("create"),
    );
    expect(created.status).toBe(200);
    const id = created.body.id;
    await authorizeThroughService(system, id);

    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        post<PaymentView>(i, `/v1/payments/${id}/capture`, {}, uniqueKey(`capture-${i}`)),
      ),
    );

    const won = answers.filter((a) => a.status === 200);
    const lost = answers.filter((a) => a.status !== 200);
    expect(won).toHaveLength(1);
    expect(won[0]!.body).toMatchObject({ id, status: "captured", amountCaptured: 35000 });
    expect(lost).toHaveLength(BURST - 1);
    for (const answer of lost) {
      expect(answer.status).toBe(409);
      expect(errorCode(answer)).toBe("payment_invalid_state");
    }

    const payment = await api<PaymentView>(serverUrl(1), "GET", `/v1/payments/${id}`, merchant.secretKey);
    expect(payment.body).toMatchObject({ status: "captured", amountCaptured: 35000, amountRefunded: 0 });

    const db = system.database.db;
    const captures = await db
      .select()
      .from(ledgerTransactions)
      .where(and(eq(ledgerTransactions.paymentId, id), eq(ledgerTransactions.kind, "capture")));
    expect(captures).toHaveLength(1);
    const capturedEvents = await queryRows<{ id: string }>(
      db,
      sql`select id from events where type = 'payment.captured' and data->'payment'->>'id' = ${id}`,
    );
    expect(capturedEvents).toHaveLength(1);
    const ledger = await system.ledger.verify(db);
    expect(ledger.problems).toEqual([]);
    expect(ledger.ok).toBe(true);
  });

  it("never refunds more than was captured under 50 concurrent refunds of 1,000 KRW", async () => {
    const payment = await capturedPayment(35000, "refund-race-even");
    const outcome = await refundBurst(payment.id, () => 1000);
    expect(outcome.succeeded).toHaveLength(35);
    expect(outcome.failed).toHaveLength(15);
    expect(outcome.refunded).toBe(35000);
    await expectConsistent(payment.id, outcome);
  });

  it("never refunds more than was captured when the refund amounts do not divide the capture", async () => {
    // 50 amounts from 700 to 1,690 KRW (sum 59,250): which ones fit depends on the order the database decides.
    const payment = await capturedPayment(35000, "refund-race-uneven");
    const outcome = await refundBurst(payment.id, (i) => 700 + ((i * 370) % 1000));
    expect(outcome.refunded).toBeLessThanOrEqual(35000);
    expect(outcome.succeeded.length).toBeGreaterThan(0);
    expect(outcome.failed.length).toBeGreaterThan(0);
    // Refundable only shrinks, so each refused amount was larger than what is left now; otherwise a refund was
    // refused that should have fitted (a lost update in the other direction).
    const left = 35000 - outcome.refunded;
    for (const amount of outcome.failed) expect(amount).toBeGreaterThan(left);
    await expectConsistent(payment.id, outcome);
  });

  interface RefundOutcome {
    succeeded: RefundView[];
    /** The amounts that were refused. */
    failed: number[];
    refunded: number;
  }

  async function refundBurst(paymentId: string, amountOf: (i: number) => number): Promise<RefundOutcome> {
    const answers = await Promise.all(
      Array.from({ length: BURST }, async (_, i) => ({
        amount: amountOf(i),
        answer: await post<RefundView>(
          i,
          `/v1/payments/${paymentId}/refunds`,
          { amount: amountOf(i) },
          uniqueKey(`refund-${i}`),
        ),
      })),
    );
    const succeeded: RefundView[] = [];
    const failed: number[] = [];
    for (const { amount, answer } of answers) {
      if (answer.status === 200) {
        expect(answer.body).toMatchObject({ paymentId, amount, status: "succeeded" });
        succeeded.push(answer.body);
      } else {
        expect(answer.status, answer.raw).toBe(409);
        expect(errorCode(answer)).toBe("refund_exceeds_captured");
        failed.push(amount);
      }
    }
    return { succeeded, failed, refunded: succeeded.reduce((sum, r) => sum + r.amount, 0) };
  }

  async function expectConsistent(paymentId: string, outcome: RefundOutcome): Promise<void> {
    const payment = await api<PaymentView>(serverUrl(0), "GET", `/v1/payments/${paymentId}`, merchant.secretKey);
    expect(payment.body).toMatchObject({ status: "captured", amountCaptured: 35000, amountRefunded: outcome.refunded });
    expect(payment.body.amountRefundable).toBe(35000 - outcome.refunded);

    const db = system.database.db;
    const rows = await db.select().from(refunds).where(eq(refunds.paymentId, paymentId));
    expect(rows.map((r) => r.id).sort()).toEqual(outcome.succeeded.map((r) => r.id).sort());
    expect(rows.reduce((sum, r) => sum + r.amount, 0)).toBe(outcome.refunded);

    const listed = await api<{ data: RefundView[] }>(
      serverUrl(1),
      "GET",
      `/v1/payments/${paymentId}/refunds`,
      merchant.secretKey,
    );
    expect(listed.body.data.map((r) => r.id).sort()).toEqual(outcome.succeeded.map((r) => r.id).sort());

    const postings = await db
      .select()
      .from(ledgerTransactions)
      .where(and(eq(ledgerTransactions.paymentId, paymentId), eq(ledgerTransactions.kind, "refund")));
    expect(postings.map((p) => p.refundId).sort()).toEqual(outcome.succeeded.map((r) => r.id).sort());

    const ledger = await system.ledger.verify(db);
    expect(ledger.problems).toEqual([]);
    expect(ledger.ok).toBe(true);
    const audit = await system.audit.verify();
    expect(audit.problems).toEqual([]);
    expect(audit.ok).toBe(true);
  }

  it("has one effect for 50 concurrent creates with one Idempotency-Key, and refuses the key for another body", async () => {
    const key = uniqueKey("one-key");
    const body = paymentBody({ orderId: "idempotent-race", amount: 12000 });
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) => post<PaymentView>(i, "/v1/payments", body, key)),
    );

    for (const answer of answers) expect(answer.status, answer.raw).toBe(200);
    const first = answers[0]!;
    expect(new Set(answers.map((a) => a.body.id))).toEqual(new Set([first.body.id]));
    for (const answer of answers) expect(answer.raw).toBe(first.raw);
    const replayed = answers.filter((a) => a.headers.get("idempotent-replayed") === "true");
    expect(replayed).toHaveLength(BURST - 1);

    const rows = await system.database.db
      .select()
      .from(payments)
      .where(and(eq(payments.merchantId, merchant.id), eq(payments.orderId, "idempotent-race")));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(first.body.id);

    const reused = await post(1, "/v1/payments", { ...body, amount: 12001 }, key);
    expect(reused.status).toBe(409);
    expect(errorCode(reused)).toBe("idempotency_key_reused");
    const stillOne = await system.database.db
      .select()
      .from(payments)
      .where(and(eq(payments.merchantId, merchant.id), eq(payments.orderId, "idempotent-race")));
    expect(stillOne).toHaveLength(1);
  });
});
