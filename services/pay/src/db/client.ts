/**
 * One database handle over either driver: node-postgres for PostgreSQL (`DATABASE_URL`), PGlite (real
 * PostgreSQL in WASM) in a data folder as the zero-setup default. The same drizzle schema, migrations and queries
 * run on both (DESIGN.md "Storage").
 */
import { fileURLToPath } from "node:url";
import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { PgTransaction } from "drizzle-orm/pg-core";
import type { SQL } from "drizzle-orm";
import * as schema from "./schema.ts";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Either the database or an open transaction: stores take this so services decide the transaction's bounds. */
export type Executor = Db | Tx;

export interface Database {
  readonly db: Db;
  readonly kind: "postgres" | "pglite";
  close(): Promise<void>;
}

const MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));
/** Any fixed number: every pay-server process that starts at once takes this lock, so one migrates at a time. */
const MIGRATION_LOCK = 7_402_311;

export interface OpenOptions {
  /** `postgres://…`; when absent, PGlite in `dataDir` (or in memory when `dataDir` is also absent). */
  url?: string;
  dataDir?: string;
  /** Pool size per process; PostgreSQL allows 100 connections in all, shared by every process and test. */
  poolSize?: number;
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  if (options.url) {
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10, idleTimeoutMillis: 10_000 });
    // A pool error on an idle client (the server restarted) must not crash the process; the next query reconnects.
    pool.on("error", () => {});
    const db = drizzlePg(pool, { schema }) as unknown as Db;
    return { db, kind: "postgres", close: () => pool.end() };
  }
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const client = await PGlite.create(options.dataDir ?? "memory://");
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return { db, kind: "pglite", close: () => client.close() };
}

/** Applies pending migrations; safe to call from several processes at once on PostgreSQL. */
export async function migrateDatabase(database: Database): Promise<void> {
  if (database.kind === "pglite") {
    await migratePglite(database.db as Parameters<typeof migratePglite>[0], { migrationsFolder: MIGRATIONS });
    return;
  }
  // The migrator runs its own transaction; hold a session-level lock around it on one dedicated connection.
  const db = database.db;
  await withSessionLock(database, () => migratePg(db as Parameters<typeof migratePg>[0], { migrationsFolder: MIGRATIONS }));
}

async function withSessionLock(database: Database, work: () => Promise<void>): Promise<void> {
  // A session lock needs one connection for lock and unlock; the drizzle pool may hand out different ones,
  // so take a dedicated client from the underlying pool.
  const pool = (database.db as unknown as { $client: pg.Pool }).$client;
  const client = await pool.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await work();
  } finally {
    await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}

/** Runs raw SQL and returns its rows (both drivers answer `{ rows }`; drizzle types it loosely). */
export async function queryRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result = await db.execute(query);
  return (result as unknown as { rows: T[] }).rows;
}
