/**
 * The backup and the restore the restore drill times, as an operator runs them:
 * - PostgreSQL: `pg_dump -Fc` of the live database (a consistent snapshot while the server keeps serving), then
 *   `pg_restore` into a new, empty database. The client tools must match the server's major version (a newer
 *   pg_dump refuses nothing, an older one refuses a newer server), so they come from /usr/lib/postgresql/<major>/bin
 *   when that folder exists, else from PATH.
 * - Embedded (PGlite): the database is the folder `<MPAY_DATA_DIR>/db`, and one process may hold it; the backup is
 *   a copy of that folder taken while no pay server runs on it (docs/operations.md, "Backups and restore").
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

export interface Timed<T> {
  value: T;
  seconds: number;
}

export async function timed<T>(work: () => Promise<T>): Promise<Timed<T>> {
  const started = process.hrtime.bigint();
  const value = await work();
  return { value, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** The server's major version (e.g. 15) and the folder of its matching client tools, or "" for PATH. */
export async function postgresTools(url: string): Promise<{ major: number; version: string; bin: string }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string; num: string }>(
      "select current_setting('server_version') as server_version, current_setting('server_version_num') as num",
    );
    const version = rows[0]?.server_version ?? "unknown";
    const major = Math.floor(Number(rows[0]?.num ?? 0) / 10000);
    const folder = `/usr/lib/postgresql/${major}/bin`;
    return { major, version, bin: existsSync(join(folder, "pg_dump")) ? folder : "" };
  } finally {
    await client.end();
  }
}

const tool = (bin: string, name: string) => (bin ? join(bin, name) : name);

/** `pg_dump -Fc` (custom format: compressed, restorable table by table, in parallel) of `url` into `file`. */
export async function dumpCustom(bin: string, url: string, file: string): Promise<void> {
  await run(tool(bin, "pg_dump"), ["--format=custom", "--no-owner", "--no-privileges", "--file", file, url]);
}

/**
 * `pg_restore` of `file` into the empty database at `url`, in one transaction: a restore that fails half-way
 * leaves nothing behind to be mistaken for a good copy.
 */
export async function restoreCustom(bin: string, file: string, url: string): Promise<void> {
  await run(tool(bin, "pg_restore"), [
    "--no-owner",
    "--no-privileges",
    "--exit-on-error",
    "--single-transaction",
    "--dbname",
    url,
    file,
  ]);
}

/** pg_database_size of the database at `url`, in bytes. */
export async function databaseBytes(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ bytes: string }>("select pg_database_size(current_database()) as bytes");
    return Number(rows[0]?.bytes ?? 0);
  } finally {
    await client.end();
  }
}

/** A copy of a stopped PGlite folder, timestamps kept (`cp -a`). */
export function copyFolder(from: string, to: string): Promise<void> {
  return cp(from, to, { recursive: true, preserveTimestamps: true });
}

/** The bytes of a file, or of every file under a folder. */
export async function sizeOf(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}
