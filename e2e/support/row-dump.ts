/**
 * Every row of every table of a database as JSON (`row_to_json`: columns by name, bytea as `\x…` hex, jsonb as
 * JSON), for a breach drill's attacker, who needs the columns by name (a sealed record and its binding) and not
 * only text to search (table-dump.ts). Like table-dump.ts, the table list comes from information_schema, so a
 * table added later is in the dump; on PGlite, open the folder only after the process that owns it has stopped.
 */
import { dumpEachRow, type DatabaseAt } from "./table-dump.ts";

export interface JsonRow {
  table: string;
  row: Record<string, unknown>;
}

export async function dumpRows(at: DatabaseAt): Promise<JsonRow[]> {
  return (await dumpEachRow(at, "row_to_json(t)::text")).map(({ table, text }) => ({
    table,
    row: JSON.parse(text) as Record<string, unknown>,
  }));
}
