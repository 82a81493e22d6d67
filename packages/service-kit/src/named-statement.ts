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
import { sql, type SQL } from "drizzle-orm";
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
/** Every statement made in this process, by name: for the test that checks each one's generic plan. */
const queries = new Map<string, SQL>();

/** The text (with `$n` parameters) of every named statement this process has made, for EXPLAIN in tests. */
export function namedStatementTexts(): { name: string; sql: string }[] {
  return [...queries].map(([name, query]) => ({ name, sql: dialect.sqlToQuery(query).sql }));
}

export function namedStatement<Row>(name: string, query: SQL): NamedStatement<Row> {
  if (!NAME.test(name)) throw new Error(`statement name must be lower-case snake case, got ${JSON.stringify(name)}`);
  if (names.has(name)) throw new Error(`statement name ${name} is already taken`);
  names.add(name);
  queries.set(name, query);
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

/**
 * A condition that a row found by its primary key must also meet (its owner, its mode), in a form PostgreSQL checks
 * on that row but never uses to choose an index. A prepared statement's generic plan is made once and kept: made on
 * a young table whose statistics say nothing, `id = $1 and payer_id = $2` can go in through the payer's index and
 * filter by id, reading all of that payer's rows on every run (seen in `bench -- api`: captures read every payment
 * of the merchant through payments_merchant_order). `(…) is true` keeps the meaning (null fails, as in WHERE)
 * and leaves the primary key as the only way in.
 */
export function onFoundRow(condition: SQL): SQL {
  return sql`(${condition}) is true`;
}
