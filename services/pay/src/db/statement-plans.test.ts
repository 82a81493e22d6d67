/**
 * The plans PostgreSQL keeps for the pay server's named statements. A prepared statement is planned for its values
 * five times, then gets a generic plan made for any value, which it keeps until the table's statistics change; made
 * on a young table, that plan once went in through the wrong index (an approval read every payment awaiting
 * approval through a partial index; a capture read every payment of its merchant through the order-id index) and
 * the cost of each payment grew with the number of payments (`bench -- api` fell from ~400 to ~70 payments/s).
 * So each named statement's generic plan, made here on a fresh database as in production's first minutes, must read
 * no table whole and must use the primary key when the statement names a row's id.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { namedStatementTexts } from "@mpay/service-kit";
import { planProblems } from "@mpay/service-kit/testing";
import { queryRows } from "./client.ts";
import { testBackends } from "../testing/databases.ts";
import { openTestPay, type TestPay } from "../testing/system.ts";

describe.each(testBackends())("generic plans of the named statements [%s]", (backend) => {
  let pay: TestPay;
  beforeAll(async () => {
    pay = await openTestPay(backend);
  });
  afterAll(() => pay?.close());

  it("read no table whole and find rows by id through the primary key", async () => {
    const statements = namedStatementTexts();
    // The system has made its statements (stores are loaded): the approval and capture ones among them.
    expect(statements.map((s) => s.name)).toEqual(
      expect.arrayContaining(["payments_approve", "payments_capture", "approvals_with_challenge", "vault_payer_card"]),
    );
    const problems: string[] = [];
    for (const [i, s] of statements.entries()) {
      const name = `plan_check_${i}`;
      await pay.system.database.db.transaction(async (tx) => {
        await tx.execute(sql.raw("set local plan_cache_mode = force_generic_plan"));
        await tx.execute(sql.raw(`prepare ${name} as ${s.sql}`));
        const [described] = await queryRows<{ n: number }>(
          tx,
          sql`select cardinality(parameter_types) as n from pg_prepared_statements where name = ${name}`,
        );
        const n = Number(described?.n ?? 0);
        // Nothing is executed (no ANALYZE): the plan of a write is shown without the write.
        const args = n > 0 ? `(${Array.from({ length: n }, () => "null").join(", ")})` : "";
        const rows = await queryRows<{ "QUERY PLAN": string }>(tx, sql.raw(`explain execute ${name}${args}`));
        await tx.execute(sql.raw(`deallocate ${name}`));
        for (const problem of planProblems(rows.map((r) => r["QUERY PLAN"]))) problems.push(`${s.name}: ${problem}`);
      });
    }
    expect(problems).toEqual([]);
  });
});
