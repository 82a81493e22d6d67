/**
 * Every row of every table of a database, as text (`row::text`, PostgreSQL's own rendering: bytea as hex, jsonb as
 * JSON), for the checks that nothing secret was stored. The table list comes from information_schema, so a table
 * added later is searched without changing the test. On PGlite, open the data folder only after the process that
 * owns it has stopped.
 */
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

export interface DumpedRow {
  table: string;
  text: string;
}

const TABLES = `select table_schema as schema, table_name as name from information_schema.tables
  where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`;

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** Where a database is: a PostgreSQL URL, or a PGlite folder no running process holds. */
export type DatabaseAt = { url: string } | { pgliteDir: string };

export function dumpDatabase(at: DatabaseAt): Promise<DumpedRow[]> {
  return dumpEachRow(at, "t::text");
}

/** Every row of every table, rendered by `rendering` (an SQL expression over the row alias `t`). */
export async function dumpEachRow(at: DatabaseAt, rendering: "t::text" | "row_to_json(t)::text"): Promise<DumpedRow[]> {
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
    const rows: DumpedRow[] = [];
    for (const { schema, name } of await query<{ schema: string; name: string }>(TABLES)) {
      const table = `${schema}.${name}`;
      for (const { text } of await query<{ text: string }>(
        `select ${rendering} as text from ${quote(schema)}.${quote(name)} t`,
      ))
        rows.push({ table, text });
    }
    return rows;
  } finally {
    await close();
  }
}
