/**
 * One database handle over either driver: node-postgres for PostgreSQL (production, `…_DATABASE_URL`), PGlite
 * (real PostgreSQL in WASM) in a data folder as the zero-setup default. Each service passes its own drizzle
 * schema and migrations folder: services share this plumbing, never their tables (DESIGN.md "Storage").
 * A PGlite folder has one owner (embedded-database.ts): operator commands join a running owner over its socket.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { ExtractTablesWithRelations, SQL } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { openEmbedded, type JoinedFolder } from "./embedded-database.ts";
import { multiHostPool, parseHostList } from "./pg-hosts.ts";

export type Db<S extends Record<string, unknown>> = PgDatabase<PgQueryResultHKT, S>;
export type Tx<S extends Record<string, unknown>> = PgTransaction<PgQueryResultHKT, S, ExtractTablesWithRelations<S>>;

export interface Database<S extends Record<string, unknown>> {
  readonly db: Db<S>;
  readonly kind: "postgres" | "pglite";
  /** The schema unqualified names resolve to (and migrations run in), when one was asked for. */
  readonly searchPath?: string | undefined;
  /**
   * This process owns a PGlite folder: `migrateDatabase` calls this once the schema is current, to serve the
   * folder to the operator commands that join it (never a half-migrated schema).
   */
  readonly share?: (() => Promise<void>) | undefined;
  close(): Promise<void>;
}

/** How a process opens a PGlite folder that another may hold (embedded-database.ts). */
export interface EmbeddedAccess {
  /** Who opens a PGlite folder, named to another process that finds it held ("the pay server"). */
  owner?: string | undefined;
  /**
   * For operator commands: when a live process holds the PGlite folder, work through it (its socket) instead
   * of being refused. Servers leave this off: a second server on a folder is an error.
   */
  joinRunning?: boolean | undefined;
}

export interface OpenOptions<S extends Record<string, unknown>> extends EmbeddedAccess {
  schema: S;
  /** `postgres://…`; when absent, PGlite in `dataDir` (or in memory when `dataDir` is also absent). */
  url?: string | undefined;
  dataDir?: string | undefined;
  /** Connections per process; PostgreSQL allows 100 in all, shared by every process and test. */
  poolSize?: number;
  /**
   * A schema of its own (`issuer_sampo`): every connection resolves unqualified names there, and migrations run
   * there, so several tenants of one service share one PostgreSQL database without seeing each other's tables.
   */
  searchPath?: string | undefined;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A connection the server ends (a restart, a failover, pg_terminate_backend) must not crash the process. An idle
 * client's error reaches the pool's listener; a checked-out client's error between two statements (a transaction
 * waiting on a card issuer) is emitted on the client itself, where an 'error' event without a listener kills the
 * process (found by `npm run drill -- crash`, issue 12). Its next statement fails instead (the request answers an
 * error, its transaction is gone), and the pool drops the broken client when it is released and connects a new one.
 */
function survivesLostConnections(pool: pg.Pool): void {
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
}

export async function openDatabase<S extends Record<string, unknown>>(options: OpenOptions<S>): Promise<Database<S>> {
  const { schema, searchPath } = options;
  if (searchPath !== undefined && !SCHEMA_NAME.test(searchPath))
    throw new Error(`searchPath must be a lower-case schema name, got ${JSON.stringify(searchPath)}`);
  if (options.url) {
    const config: pg.PoolConfig = {
      max: options.poolSize ?? 10,
      idleTimeoutMillis: 10_000,
      ...(searchPath ? { options: `-c search_path=${searchPath}` } : {}),
    };
    // Several hosts (a failover pair): each connection searches for the writable one (pg-hosts.ts).
    const hosts = parseHostList(options.url);
    const pool = hosts ? multiHostPool(hosts, config) : new pg.Pool({ ...config, connectionString: options.url });
    survivesLostConnections(pool);
    const db = drizzlePg(pool, { schema }) as unknown as Db<S>;
    return { db, kind: "postgres", searchPath, close: () => pool.end() };
  }
  if (!options.dataDir) {
    const client = await PGlite.create("memory://");
    return openPglite(schema, client, searchPath, () => client.close(), undefined);
  }
  for (let attempt = 1; ; attempt++) {
    const folder = await openEmbedded({
      dataDir: options.dataDir,
      owner: options.owner ?? "another process",
      join: options.joinRunning ?? false,
    });
    if (folder.kind === "owned") {
      try {
        return await openPglite(
          schema,
          folder.client,
          searchPath,
          () => folder.close(),
          () => folder.share(),
        );
      } catch (error) {
        await folder.close();
        throw error;
      }
    }
    const joined = await joinFolder(schema, folder);
    if (joined) return joined;
    // The holder stopped between reading its lock and connecting: the folder is free, or held anew.
    if (attempt >= 5)
      throw new Error(
        `could not reach ${folder.holder.owner} (pid ${folder.holder.pid}) on ${folder.socketDir}: try again`,
      );
    await sleep(500);
  }
}

async function openPglite<S extends Record<string, unknown>>(
  schema: S,
  client: PGlite,
  searchPath: string | undefined,
  close: () => Promise<void>,
  share: (() => Promise<void>) | undefined,
): Promise<Database<S>> {
  // PGlite is one session: a search_path set once holds for every later query.
  if (searchPath) await client.exec(`create schema if not exists ${searchPath}; set search_path to ${searchPath}`);
  const db = drizzlePglite(client, { schema }) as unknown as Db<S>;
  return { db, kind: "pglite", searchPath, share, close };
}

/**
 * A client whose statements are all unnamed: on a PGlite holder's socket every connection shares the holder's one
 * session, where a named statement (named-statement.ts) would outlive this process and collide with the next
 * connection that names it.
 */
class UnnamedStatementsClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    this.query = ((statement: unknown, ...rest: unknown[]) =>
      query(
        statement !== null && typeof statement === "object" && "name" in statement
          ? { ...statement, name: undefined }
          : statement,
        ...rest,
      )) as pg.Client["query"];
  }
}

/**
 * node-postgres on the holder's socket. No search path: the holder's one PGlite session is shared, and a setting
 * made here would hold for the holder too. Undefined when the socket does not answer (the holder just stopped).
 */
async function joinFolder<S extends Record<string, unknown>>(
  schema: S,
  folder: JoinedFolder,
): Promise<Database<S> | undefined> {
  // Every statement of every connection runs in the holder's one session, one at a time: a few connections do.
  const pool = new pg.Pool({
    Client: UnnamedStatementsClient,
    host: folder.socketDir,
    port: folder.port,
    user: "postgres",
    database: "postgres",
    max: 4,
    idleTimeoutMillis: 10_000,
  });
  survivesLostConnections(pool);
  try {
    await pool.query("select 1");
  } catch {
    await pool.end().catch(() => {});
    return undefined;
  }
  const db = drizzlePg(pool, { schema }) as unknown as Db<S>;
  return { db, kind: "postgres", close: () => pool.end() };
}

/**
 * Applies pending migrations. On PostgreSQL every process of a service that starts at once takes the same
 * advisory lock (`lockId`, one per service), so one migrates at a time; the lock is held on one dedicated
 * connection, since the migrator runs its own transaction and a pool may hand out different connections.
 */
export async function migrateDatabase<S extends Record<string, unknown>>(
  database: Database<S>,
  migrationsFolder: string,
  lockId: number,
): Promise<void> {
  // With a search path, the migrations journal lives in that schema too: each tenant migrates on its own.
  const config = { migrationsFolder, ...(database.searchPath ? { migrationsSchema: database.searchPath } : {}) };
  if (database.kind === "pglite") {
    await migratePglite(database.db as unknown as Parameters<typeof migratePglite>[0], config);
    await database.share?.();
    return;
  }
  const pool = (database.db as unknown as { $client: pg.Pool }).$client;
  const client = await pool.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [lockId]);
    if (database.searchPath) await client.query(`create schema if not exists ${database.searchPath}`);
    await migratePg(database.db as unknown as Parameters<typeof migratePg>[0], config);
  } finally {
    await client.query("select pg_advisory_unlock($1)", [lockId]).catch(() => {});
    client.release();
  }
}

/** Runs raw SQL and returns its rows (both drivers answer `{ rows }`; drizzle types it loosely). */
export async function queryRows<T>(db: { execute(query: SQL): Promise<unknown> }, query: SQL): Promise<T[]> {
  const result = await db.execute(query);
  return (result as { rows: T[] }).rows;
}
