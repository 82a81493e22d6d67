/**
 * What is wrong with a generic plan of a prepared statement (EXPLAIN's text lines), for the test of the pay
 * server's named statements and the bench's EXPLAIN: a table read whole, or a row named by its id found through
 * another index and filtered by id (the plan a young table's empty statistics can leave in place for good).
 */

/** The scan nodes of a plan, each with the lines that belong to it (its conditions and filter). */
function scansOf(plan: string[]): { node: string; details: string[] }[] {
  const nodes: { node: string; details: string[] }[] = [];
  for (const line of plan) {
    if (/^\s*(Index Cond|Filter|Recheck Cond):/.test(line)) nodes.at(-1)?.details.push(line.trim());
    else if (/\bScan\b/.test(line) || /->/.test(line) || nodes.length === 0)
      nodes.push({ node: line.trim(), details: [] });
    else nodes.at(-1)?.details.push(line.trim());
  }
  return nodes.filter((s) => /\bScan\b/.test(s.node));
}

const BY_ID = /\b(\w+\.)?id = \$\d+/;

export function planProblems(plan: string[]): string[] {
  const problems: string[] = [];
  for (const scan of scansOf(plan)) {
    if (/Seq Scan on/.test(scan.node)) problems.push(`reads a table whole: ${scan.node}`);
    const cond = scan.details.find((d) => d.startsWith("Index Cond:")) ?? "";
    const filter = scan.details.find((d) => d.startsWith("Filter:")) ?? "";
    if (BY_ID.test(filter) && !BY_ID.test(cond))
      problems.push(`finds a row by id without the primary key: ${scan.node} / ${cond} / ${filter}`);
  }
  return problems;
}
