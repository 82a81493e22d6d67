/**
 * Statements on a service's hot paths, parsed and planned once per connection instead of once per request (issue
 * 11: unnamed statements cost PostgreSQL a parse and a plan each time, and drizzle's query building was a quarter
 * of the pay server's CPU). The text is built once, from drizzle `sql` with `sql.placeholder("name")` for each value;
 * each run hands the values to the driver with the statement's name. node-postgres parses a name once per
 * connection and then only binds it; PGlite runs the same text unnamed (drizzle's PGlite session ignores names).
 *
 * Rows come back as the driver reads them, without drizzle's mapping: timestamps as text (drizzle turns the
 * parsers for them off), jsonb parsed, int8 as the driver gives it. Callers convert what they read.
 */
import type { SQL } from "drizzle-orm";
import { PgDialect, type PgSession } from "drizzle-orm/pg-core";

/** Anything that runs SQL through drizzle: the database or an open transaction. */
interface SessionHolder {
  readonly _: { readonly session: PgSession };
}

export interface NamedStatement<Row> {
  readonly name: string;
  run(db: unknown, values: Record<string, unknown>): Promise<Row[]>;
}

const dialect = new PgDialect();
/** PostgreSQL's name length limit; names are also unique per connection, so one text per name. */
const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const names = new Set<string>();

export function namedStatement<Row>(name: string, query: SQL): NamedStatement<Row> {
  if (!NAME.test(name)) throw new Error(`statement name must be lower-case snake case, got ${JSON.stringify(name)}`);
  if (names.has(name)) throw new Error(`statement name ${name} is already taken`);
  names.add(name);
  let compiled: { sql: string; params: unknown[] } | undefined;
  // drizzle's prepared query per session (the database's, or a transaction's own): making one builds its driver
  // config and type parsers, which cost 2.7 % of the pay server's CPU when it was made on every run.
  const prepared = new WeakMap<PgSession, ReturnType<PgSession["prepareQuery"]>>();
  return {
    name,
    async run(db, values) {
      compiled ??= dialect.sqlToQuery(query);
      const session = (db as SessionHolder)._.session;
      let statement = prepared.get(session);
      if (!statement) {
        statement = session.prepareQuery(compiled, undefined, name, false);
        prepared.set(session, statement);
      }
      const result = (await statement.execute(values)) as { rows: Row[] };
      return result.rows;
    },
  };
}

/**
 * A drizzle query builder's `.prepare(name)`, made once per database handle (a transaction is a handle of its own,
 * so it prepares its own): for hot reads that keep drizzle's row mapping, where `namedStatement` hands back the
 * driver's rows.
 */
export function preparedPer<Db extends object, P>(build: (db: Db) => P): (db: Db) => P {
  const prepared = new WeakMap<Db, P>();
  return (db) => {
    let statement = prepared.get(db);
    if (!statement) {
      statement = build(db);
      prepared.set(db, statement);
    }
    return statement;
  };
}

/**
 * A timestamp of a named statement's row: text from node-postgres (drizzle turns its parsers off), a Date from
 * PGlite. One converter for every store that reads driver rows.
 */
export function driverDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

/** `driverDate` for a nullable column. */
export function driverDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : driverDate(value);
}
