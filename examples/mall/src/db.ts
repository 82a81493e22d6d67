/**
 * The shop's own database: PGlite (PostgreSQL in WebAssembly, a folder on disk) by default, PostgreSQL when
 * MALL_DATABASE_URL is set. The shop shares nothing with MPay's databases; its schema is three tables.
 */
import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

export interface Queryable {
  query<T>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface Database extends Queryable {
  /** Runs `work` in one transaction: all of its writes or none. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const SCHEMA = `
create table if not exists orders (
  id text primary key,
  shopper text not null,
  items jsonb not null,
  amount integer not null,
  currency text not null,
  item_name text not null,
  payment_id text unique,
  -- MPay's status of the payment as the last verified webhook told it; null until the first one.
  payment_status text,
  amount_refunded integer not null default 0,
  paid_at timestamptz,
  created_at timestamptz not null default now()
);
create index if not exists orders_shopper on orders (shopper, created_at desc);
-- Every verified webhook event once: a redelivery of the same event changes nothing.
create table if not exists webhook_events (
  id text primary key,
  type text not null,
  order_id text,
  received_at timestamptz not null default now()
);
create table if not exists settings (
  key text primary key,
  value text not null
);`;

/** Opens (and creates, the first time) the shop's database. */
export async function openDatabase(options: {
  url?: string | undefined;
  dataDir?: string | undefined;
}): Promise<Database> {
  const db = options.url ? postgres(options.url) : await pglite(options.dataDir);
  await db.query(SCHEMA);
  return db;
}

async function pglite(dataDir: string | undefined): Promise<Database> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const lite = new PGlite(dataDir);
  const run =
    (q: Pick<PGlite, "query" | "exec">) =>
    async <T>(text: string, params?: unknown[]): Promise<T[]> =>
      params === undefined && text.includes(";")
        ? (((await q.exec(text)).at(-1)?.rows as T[] | undefined) ?? [])
        : (await q.query<T>(text, params)).rows;
  return {
    query: run(lite),
    transaction: (work) => lite.transaction((tx) => work({ query: run(tx) })),
    close: () => lite.close(),
  };
}

function postgres(url: string): Database {
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  return {
    async query<T>(text: string, params?: unknown[]) {
      return (await pool.query(text, params)).rows as T[];
    },
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query("begin");
        const result = await work({
          query: async <T>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[],
        });
        await client.query("commit");
        return result;
      } catch (error) {
        await client.query("rollback").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
