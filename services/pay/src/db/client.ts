/**
 * The pay server's database: its schema and migrations over the shared handle (@mpay/service-kit), which runs on
 * node-postgres for PostgreSQL (`DATABASE_URL`) and on PGlite in a data folder as the zero-setup default.
 */
import { fileURLToPath } from "node:url";
import * as kit from "@mpay/service-kit";
import * as schema from "./schema.ts";

export { queryRows } from "@mpay/service-kit";

export type Schema = typeof schema;
export type Db = kit.Db<Schema>;
export type Tx = kit.Tx<Schema>;
/** Either the database or an open transaction: stores take this so services decide the transaction's bounds. */
export type Executor = Db | Tx;
export type Database = kit.Database<Schema>;

const MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));
/** Any fixed number, the pay server's own: its processes that start at once migrate one at a time. */
const MIGRATION_LOCK = 7_402_311;

/**
 * `owner` names this process to another that finds its PGlite folder held; `joinRunning` (the CLI) works through
 * a running server that holds the folder instead of being refused (service-kit embedded-database.ts).
 */
export function openDatabase(
  options: kit.EmbeddedAccess & { url?: string | undefined; dataDir?: string | undefined; poolSize?: number },
): Promise<Database> {
  return kit.openDatabase({ ...options, schema });
}

/** Applies pending migrations; safe to call from several processes at once on PostgreSQL. */
export function migrateDatabase(database: Database): Promise<void> {
  return kit.migrateDatabase(database, MIGRATIONS, MIGRATION_LOCK);
}
