import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testBackends } from "../testing/databases.ts";
import { authorizeThroughService, call, openTestPay, paymentBody, type TestPay } from "../testing/system.ts";
import { assertBalanced, authorizationPosting, capturePosting, refundPosting, releasePosting } from "./accounts.ts";

const ref = { id: "pay_X", merchantId: "mch_X", mode: "test" as const, currency: "KRW" };

describe("ledger postings", () => {
  it("every posting template balances for any amounts", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 99_999_999_999 }), fc.integer({ min: 1, max: 99_999_999_999 }), (a, b) => {
        const [authorized, captured] = a >= b ? [a, b] : [b, a];
        for (const p of [
          authorizationPosting(ref, authorized),
          capturePosting(ref, authorized, captured),
          releasePosting(ref, authorized),
          refundPosting(ref, "re_X", captured),
        ]) {
          assertBalanced(p);
          expect(p.lines.reduce((s, l) => s + l.amount, 0)).toBe(0);
        }
      }),
    );
  });

  it("refuses an unbalanced or zero posting", () => {
    const broken = authorizationPosting(ref, 100);
    broken.lines[0]!.amount = 101;
    expect(() => assertBalanced(broken)).toThrow(/unbalanced/);
    const zero = authorizationPosting(ref, 100);
    zero.lines[0]!.amount = 0;
    expect(() => assertBalanced(zero)).toThrow(/invalid amount/);
  });
});

describe.each(testBackends())("ledger verify [%s]", (backend) => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay(backend);
    const { body } = await call<{ id: string }>(t.app, "POST", "/v1/payments", t.merchant.secretKey, paymentBody());
    await authorizeThroughService(t.system, body.id);
    await call(t.app, "POST", `/v1/payments/${body.id}/capture`, t.merchant.secretKey, { amount: 20000 });
    await call(t.app, "POST", `/v1/payments/${body.id}/refunds`, t.merchant.secretKey, { amount: 5000 });
  });
  afterAll(() => t.close());

  it("proves a healthy ledger balanced", async () => {
    const report = await t.system.ledger.verify(t.system.database.db);
    expect(report).toMatchObject({ ok: true, transactions: 3, entries: 8, problems: [] });
  });

  it("refuses to change or delete ledger rows", async () => {
    const db = t.system.database.db;
    for (const statement of [sql`update ledger_entries set amount = 0`, sql`delete from ledger_transactions`]) {
      const outcome = await db.execute(statement).then(
        () => "succeeded",
        (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
      );
      expect(outcome).toMatch(/append-only/);
    }
  });

  it("reports an unbalanced transaction and a balance that drifted from its entries", async () => {
    const db = t.system.database.db;
    await db.execute(sql`alter table ledger_entries disable trigger ledger_entries_append_only`);
    await db.execute(
      sql`update ledger_entries set amount = amount + 1 where id = (select min(id) from ledger_entries)`,
    );
    await db.execute(sql`alter table ledger_entries enable trigger ledger_entries_append_only`);
    await db.execute(sql`update ledger_balances set balance = balance + 7 where account like '%merchant_payable'`);
    const report = await t.system.ledger.verify(db);
    expect(report.ok).toBe(false);
    const kinds = report.problems.map((p) => p.kind);
    expect(kinds).toContain("unbalanced_transaction");
    expect(kinds).toContain("balance_mismatch");
  });
});
