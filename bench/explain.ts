/**
 * `EXPLAIN` of the hot statements of a run (issue 11: "EXPLAIN of each hot statement uses an index"), from the
 * statement list `--trace-sql` recorded. The statements carry `$n` parameters and no values, so each is prepared
 * and explained as PostgreSQL's generic plan (`plan_cache_mode = force_generic_plan`, `EXPLAIN EXECUTE s(NULL, …)`:
 * the plan made for any value, which is the one a prepared statement gets after five executions); nothing is
 * executed (no ANALYZE), so writes are explained without being made.
 */
import pg from "pg";
import { planProblems } from "@mpay/service-kit/testing";
import type { StatementStat } from "./sql-trace.ts";

export interface ExplainedStatement {
  sql: string;
  count: number;
  /** The plan, one line per node; empty when it could not be explained. */
  plan: string[];
  /**
   * `index`: every table read goes through an index; `seq-scan`: some table is read whole; `wrong-index`: a row named
   * by its id is found through another index and filtered by id; `none`: it reads no table.
   */
  access: "index" | "seq-scan" | "wrong-index" | "none" | "error";
  seqScanTables: string[];
  error?: string;
}

/** Statements worth a plan: the ones that read or write tables (not BEGIN, COMMIT, SET, locks or function calls). */
export function explainable(sql: string): boolean {
  return (
    /^(select|update|delete|insert|with)\b/i.test(sql) &&
    !/\bpg_advisory/i.test(sql) &&
    /\bfrom\b|\binto\b|\bupdate\b/i.test(sql)
  );
}

/** What a plan's text says of its table access. */
export function accessOf(plan: string[]): Pick<ExplainedStatement, "access" | "seqScanTables"> {
  const seqScanTables = [
    ...new Set(plan.flatMap((line) => [...line.matchAll(/Seq Scan on (\S+)/g)].map((m) => m[1] as string))),
  ];
  if (seqScanTables.length > 0) return { access: "seq-scan", seqScanTables };
  if (planProblems(plan).length > 0) return { access: "wrong-index", seqScanTables };
  if (plan.some((line) => /Index (Only )?Scan|Bitmap Index Scan/.test(line))) return { access: "index", seqScanTables };
  return { access: "none", seqScanTables };
}

/** Explains the `top` most frequent explainable statements on `url` (with `searchPath` for the issuer's schemas). */
export async function explainStatements(
  url: string,
  statements: StatementStat[],
  options: { top?: number; searchPath?: string } = {},
): Promise<ExplainedStatement[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const out: ExplainedStatement[] = [];
  try {
    await client.query("set plan_cache_mode = force_generic_plan");
    if (options.searchPath) await client.query(`set search_path = ${client.escapeIdentifier(options.searchPath)}`);
    const hot = statements.filter((s) => explainable(s.sql)).slice(0, options.top ?? 25);
    for (const [i, s] of hot.entries()) {
      const name = `bench_explain_${i}`;
      try {
        await client.query(`prepare ${name} as ${s.sql}`);
        const { rows } = await client.query<{ parameter_types: string }>(
          "select parameter_types::text from pg_prepared_statements where name = $1",
          [name],
        );
        const params = (rows[0]?.parameter_types ?? "{}").replace(/^\{|\}$/g, "");
        const count = params === "" ? 0 : params.split(",").length;
        const args = count > 0 ? `(${Array.from({ length: count }, () => "null").join(", ")})` : "";
        const explained = await client.query<{ "QUERY PLAN": string }>(`explain execute ${name}${args}`);
        const plan = explained.rows.map((r) => r["QUERY PLAN"]);
        out.push({ sql: s.sql, count: s.count, plan, ...accessOf(plan) });
      } catch (error) {
        out.push({
          sql: s.sql,
          count: s.count,
          plan: [],
          access: "error",
          seqScanTables: [],
          error: error instanceof Error ? error.message : String(error),
        });
      } finally {
        await client.query(`deallocate ${name}`).catch(() => undefined);
      }
    }
  } finally {
    await client.end();
  }
  return out;
}

export function formatExplained(whose: string, explained: ExplainedStatement[]): string[] {
  const lines = [`    EXPLAIN        ${whose}: the generic plan of each hot statement (most frequent first)`];
  for (const e of explained) {
    const verdict =
      e.access === "index"
        ? "index"
        : e.access === "seq-scan"
          ? `SEQ SCAN on ${e.seqScanTables.join(", ")}`
          : e.access === "wrong-index"
            ? "WRONG INDEX (id filtered)"
            : e.access === "none"
              ? "no table read"
              : `not explained (${e.error})`;
    lines.push(`      ${String(e.count).padStart(6)}  ${verdict.padEnd(22)}  ${e.sql.slice(0, 110)}`);
    for (const line of e.plan.slice(0, 6)) lines.push(`                ${line}`);
  }
  return lines;
}
