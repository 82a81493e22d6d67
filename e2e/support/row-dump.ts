/**
 * Every row of every table of a database as JSON (`row_to_json`: columns by name, bytea as `\x…` hex, jsonb as
 * JSON), for a breach drill's attacker, who needs the columns by name (a sealed record and its binding) and not
 * only text to search (table-dump.ts). Like table-dump.ts, the table list comes from information_schema, so a
 * table added later is in the dump; on PGlite, open the folder only after the process that owns it has stopped.
 */
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

export interface JsonRow {
  table: string;
  row: Record<string, unknown>;
}

const TABLES = `select table_schema as schema, table_name as name from information_schema.tables
  where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`;

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

export async function dumpRows(at: { url: string } | { pgliteDir: string }): Promise<JsonRow[]> {
  let query: <T>(text: string) => Promise<T[]>;
  let close: () => Promise<void>;
  if ("url" in at) {
    const client = new pg.Client({ connectionString: at.url });
    await client.connect();
    query = async <T>(text: string) => (await client.query(text)).rows as T[];
    close = () => client.end();
  } else {
    const db = await PGlite.create(at.pgliteDir);
    query = async <T>(text: string) => (await db.query<T>(text)).rows;
    close = () => db.close();
  }
  try {
    const rows: JsonRow[] = [];
    for (const { schema, name } of await query<{ schema: string; name: string }>(TABLES)) {
      const table = `${schema}.${name}`;
      for (const { json } of await query<{ json: string }>(`select row_to_json(t)::text as json from ${quote(schema)}.${quote(name)} t`)) {
        rows.push({ table, row: JSON.parse(json) as Record<string, unknown> });
      }
    }
    return rows;
  } finally {
    await close();
  }
}
