/**
 * One issuer's database over the shared handle (@mpay/service-kit): with `ISSUER_DATABASE_URL`, a schema of its
 * own (`issuer_<id>`) on that PostgreSQL, its migrations run in that schema; else PGlite in its own folder.
 */
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as kit from "@mpay/service-kit";
import * as schema from "./schema.ts";

export type Schema = typeof schema;
export type Db = kit.Db<Schema>;
export type Tx = kit.Tx<Schema>;
/** A handle or a transaction: stores take either. */
export type Executor = Db | Tx;
export type Database = kit.Database<Schema>;

const MIGRATIONS = fileURLToPath(new URL("../../migrations", import.meta.url));

/** `issuer_sampo`: the PostgreSQL schema of one issuer (ids are `[a-z][a-z0-9-]*`, so only `-` needs mapping). */
export function schemaNameOf(issuerId: string): string {
  return `issuer_${issuerId.replaceAll("-", "_")}`;
}

/** One advisory lock per issuer (4100 then 6 digits of a hash of the id): its processes migrate one at a time. */
function migrationLockOf(issuerId: string): number {
  return 4_100_000_000 + (createHash("sha256").update(issuerId).digest().readUInt32BE(0) % 1_000_000);
}

export interface OpenIssuerDatabase {
  issuerId: string;
  /** PostgreSQL URL; undefined → PGlite in `dataDir` (or in memory when that is undefined too). */
  url: string | undefined;
  dataDir: string | undefined;
  poolSize: number;
}

/** Opens and migrates one issuer's database. */
export async function openIssuerDatabase(options: OpenIssuerDatabase): Promise<Database> {
  const database = await kit.openDatabase({
    schema,
    url: options.url,
    dataDir: options.dataDir,
    poolSize: options.poolSize,
    owner: `the issuer host (issuer ${options.issuerId})`,
    ...(options.url ? { searchPath: schemaNameOf(options.issuerId) } : {}),
  });
  try {
    await kit.migrateDatabase(database, MIGRATIONS, migrationLockOf(options.issuerId));
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/** PostgreSQL's unique-violation code, so a lost insert race is told from any other failure. */
export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: unknown }).code === "23505") return true;
  }
  return false;
}
