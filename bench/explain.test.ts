import { describe, expect, it } from "vitest";
import { accessOf, explainable } from "./explain.ts";

describe("EXPLAIN of the hot statements", () => {
  it("explains statements that read or write tables, not transaction control, locks or SET", () => {
    expect(explainable('select "id" from "payments" where "id" = $1')).toBe(true);
    expect(explainable('update "cards" set "x" = $1 where "id" = $2')).toBe(true);
    expect(explainable('insert into "events" ("id") values ($1)')).toBe(true);
    expect(explainable("begin")).toBe(false);
    expect(explainable("commit")).toBe(false);
    expect(explainable("select pg_advisory_xact_lock($1)")).toBe(false);
    expect(explainable("set search_path = x")).toBe(false);
  });

  it("reads a plan's table access: index, a sequential scan (named), or no table read", () => {
    expect(accessOf(["Index Scan using payments_pkey on payments  (cost=0.29..8.30 rows=1 width=10)"])).toEqual({
      access: "index",
      seqScanTables: [],
    });
    expect(
      accessOf([
        "Update on cards  (cost=0.00..1.01 rows=0 width=0)",
        "  ->  Seq Scan on cards  (cost=0.00..1.01 rows=1 width=10)",
        "        Filter: (id = $1)",
      ]),
    ).toEqual({ access: "seq-scan", seqScanTables: ["cards"] });
    expect(
      accessOf([
        "Insert on events  (cost=0.00..0.01 rows=0 width=0)",
        "  ->  Result  (cost=0.00..0.01 rows=1 width=100)",
      ]),
    ).toEqual({
      access: "none",
      seqScanTables: [],
    });
  });
});
