/**
 * A backup as a thief takes it, for breach drill (e): `pg_dump` of a PostgreSQL database (plain SQL, every row as
 * text), a copy of a data folder, and the files of either read back as they lie on disk. The dump is restored into
 * a fresh database of its own, the way its owner (or its thief) would read it.
 */
import { execFile } from "node:child_process";
import { cp, readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { freshDatabase, type FreshDatabase } from "@mpay/service-kit/testing";

const run = promisify(execFile);

/** `pg_dump` of the database at `url` into `file`: plain SQL, no owners, as an operator's nightly job writes it. */
export async function pgDump(url: string, file: string): Promise<void> {
  await run("pg_dump", ["--no-owner", "--no-privileges", "--format=plain", "--file", file, url]);
}

/** A fresh database on the DATABASE_URL server with `file` (a pg_dump) restored into it. */
export async function restorePgDump(file: string): Promise<FreshDatabase> {
  const database = await freshDatabase("postgres", "mpay_restored");
  try {
    await run("psql", ["--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--file", file, database.url!]);
    return database;
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/** A copy of the folder `from` at `to`, as `cp -a` would make it. */
export function copyFolder(from: string, to: string): Promise<void> {
  return cp(from, to, { recursive: true, preserveTimestamps: true });
}

/** Every file under `dir`, read as bytes and shown as latin1 text (so every byte is one character): what to search. */
export async function filesAsText(dir: string): Promise<Array<{ where: string; text: string }>> {
  const files: Array<{ where: string; text: string }> = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.push({ where: relative(dir, path), text: (await readFile(path)).toString("latin1") });
  }
  return files;
}
