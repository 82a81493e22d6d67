/**
 * The messenger's database: its schema and migrations over the shared handle (@mpay/service-kit), on
 * node-postgres when `MESSENGER_DATABASE_URL` is set and on PGlite in a data folder as the zero-setup default.
 */
import { fileURLToPath } from "node:url";
import * as kit from "@mpay/service-kit";
import * as schema from "./schema.ts";

export type Schema = typeof schema;
export type Db = kit.Db<Schema>;
export type Database = kit.Database<Schema>;

const MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));
/** Any fixed number (not the pay server's): messenger processes that start at once migrate one at a time. */
const MIGRATION_LOCK = 4_200_001;

/** `owner` and `joinRunning`: who holds a PGlite folder, and whether a command joins a running holder (service-kit). */
export function openDatabase(
  options: kit.EmbeddedAccess & { url?: string | undefined; dataDir?: string | undefined; poolSize?: number },
): Promise<Database> {
  return kit.openDatabase({ poolSize: 5, ...options, schema });
}

/** Applies pending migrations; safe to call from several processes at once on PostgreSQL. */
export function migrateDatabase(database: Database): Promise<void> {
  return kit.migrateDatabase(database, MIGRATIONS, MIGRATION_LOCK);
}
