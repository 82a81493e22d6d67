/**
 * The fuzzer in every `npm test` (issue 12): a few thousand requests made from /openapi.json against the in-process
 * pay server, on each backend. A failure prints the fast-check seed and path; `npm run drill -- fuzz --seed S
 * --path P` replays it, and `npm run drill -- fuzz --cases 200000` runs longer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testBackends } from "../services/pay/src/testing/databases.ts";
import { sql } from "drizzle-orm";
import { openFuzzTarget, type FuzzTarget } from "../services/pay/src/testing/fuzz-target.ts";
import { changedTables, tableDigester } from "../services/pay/src/testing/table-digest.ts";
import { describeFuzz, runFuzz } from "./fuzz.ts";

const CASES = Number(process.env["MPAY_FUZZ_CASES"] ?? 1500);

describe.each(testBackends())("fuzzing /openapi.json's operations [%s]", (backend) => {
  let target: FuzzTarget;
  beforeAll(async () => {
    target = await openFuzzTarget(backend);
  }, 60_000);
  afterAll(() => target.close());

  it(`answers ${CASES} fuzzed requests without a 5xx, an undocumented error, a leak or a change on refusal`, async () => {
    const summary = await runFuzz(target, { cases: CASES });
    const report = describeFuzz(summary).join("\n");
    expect(summary.failures, report).toEqual([]);
    // The cases reached past the front door: answers of success, refusal and absence all came back.
    expect(summary.cases).toBe(CASES);
    expect(Object.keys(summary.statuses).map(Number)).toEqual(expect.arrayContaining([200, 400, 401, 404]));
  }, 120_000);

  it("notices a changed row in the table digest it compares, and only that table", async () => {
    const db = target.pay.system.database.db;
    const digest = await tableDigester(db);
    const before = await digest();
    const payment = target.ids["pay"]?.[0] ?? "";
    await db.execute(sql`update payments set order_id = order_id || '-moved' where id = ${payment}`);
    const moved = await digest(before);
    expect(changedTables(before, moved)).toEqual(["payments"]);
    await db.execute(sql`update payments set order_id = left(order_id, -6) where id = ${payment}`);
    expect(changedTables(before, await digest(moved))).toEqual([]);
  });
});
