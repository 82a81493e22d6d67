import { describe, expect, it } from "vitest";
import { planProblems } from "./plan-problems.ts";

describe("planProblems", () => {
  it("flags a row found by id through another index, and a whole-table read", () => {
    const wrongIndex = [
      "Update on payments  (cost=0.14..8.17 rows=0 width=0)",
      "  ->  Index Scan using payments_merchant_order on payments  (cost=0.14..8.17 rows=1 width=62)",
      "        Index Cond: ((merchant_id = $5) AND (mode = $6))",
      "        Filter: ((id = $1) AND (status = $4))",
    ];
    expect(planProblems(wrongIndex)).toHaveLength(1);
    expect(planProblems(["Seq Scan on cards  (cost=0.00..1.00 rows=1 width=46)", "  Filter: (payer_id = $1)"])).toEqual(
      ["reads a table whole: Seq Scan on cards  (cost=0.00..1.00 rows=1 width=46)"],
    );
    const byKey = [
      "Index Scan using payments_pkey on payments  (cost=0.14..8.17 rows=1 width=38)",
      "  Index Cond: (id = $1)",
      "  Filter: ((status = $4) AND (((merchant_id = $2) AND (mode = $3)) IS TRUE))",
    ];
    expect(planProblems(byKey)).toEqual([]);
  });
});
