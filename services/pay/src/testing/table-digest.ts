/**
 * A digest of the pay server's tables, to prove a refused request changed nothing (issue 12): one SQL query that
 * hashes every row of every table, table by table, so a difference names the table that moved.
 */
import { sql } from "drizzle-orm";
import { queryRows, type Db } from "../db/client.ts";

/**
 * Tables a refused request may grow, by design:
 * - audit_log, audit_pending, audit_heads, audit_signed_heads: the append-only audit trail records refusals a
 *   security reviewer must see (a failed sign-in, a refused vault share) — growth is the point.
 * - the migrations' own bookkeeping (drizzle's schema, not public).
 */
export const GROWS_ON_REFUSAL = ["audit_log", "audit_pending", "audit_heads", "audit_signed_heads"] as const;

/**
 * Columns a refused request may move, by design: a session's last use, touched by every request it authenticates
 * (refused or not) because the 15-minute idle timeout counts from it.
 */
export const TOUCHED_ON_USE: Readonly<Record<string, readonly string[]>> = {
  merchant_user_sessions: ["last_seen_at"],
  staff_sessions: ["last_seen_at"],
};

export interface TableDigest {
  /** The write-ahead log's insert position when the digest was taken. */
  lsn: string;
  /** table name → md5 of its rows in a stable order. */
  tables: Record<string, string>;
}

/** Builds the one digest query over every public table but `exclude`; the table list is read once. */
export async function tableDigester(
  db: Db,
  exclude: readonly string[] = GROWS_ON_REFUSAL,
  touched: Readonly<Record<string, readonly string[]>> = TOUCHED_ON_USE,
): Promise<(previous?: TableDigest) => Promise<TableDigest>> {
  const rows = await queryRows<{ name: string }>(
    db,
    sql`select table_name as name from information_schema.tables
        where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`,
  );
  const names = rows.map((r) => r.name).filter((name) => !exclude.includes(name));
  if (names.length === 0) throw new Error("no tables to digest: is the database migrated?");
  // Table names come from the catalogue, quoted as identifiers; no value from a request reaches this text.
  const rowText = (name: string) => {
    const columns = touched[name] ?? [];
    return columns.length === 0 ? "t::text" : `(to_jsonb(t) - array[${columns.map((c) => `'${c}'`).join(",")}])::text`;
  };
  const text = names
    .map(
      (name) =>
        `select '${name}' as name, md5(coalesce(string_agg(${rowText(name)}, ',' order by ${rowText(name)}), '')) as hash from "${name}" t`,
    )
    .join(" union all ");
  const lsnNow = async () =>
    (await queryRows<{ lsn: string }>(db, sql`select pg_current_wal_insert_lsn()::text as lsn`))[0]?.lsn ?? "";
  // Every committed write moves the write-ahead log: when it has not moved since `previous`, no row can differ and
  // the hashing (most of a fuzz case's time) is skipped. On a shared PostgreSQL other databases move it too, and the
  // digest is simply taken each time.
  return async (previous) => {
    const lsn = await lsnNow();
    if (previous !== undefined && previous.lsn === lsn) return previous;
    const hashed = await queryRows<{ name: string; hash: string }>(db, sql.raw(text));
    return { lsn, tables: Object.fromEntries(hashed.map((r) => [r.name, r.hash])) };
  };
}

/** The tables whose rows differ between two digests. */
export function changedTables(before: TableDigest, after: TableDigest): string[] {
  const names = new Set([...Object.keys(before.tables), ...Object.keys(after.tables)]);
  return [...names].filter((name) => before.tables[name] !== after.tables[name]).sort();
}
