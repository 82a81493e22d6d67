/**
 * Databases for tests. Every suite that touches storage runs on PGlite, and also on the real PostgreSQL server
 * whenever DATABASE_URL is set (CI sets it). Each call makes a fresh database, so test files running in parallel,
 * and runs after each other, never see each other's rows.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

export type Backend = "pglite" | "postgres";

/** The backends this run covers; test names carry `[postgres]`/`[pglite]` so the reporter can count them. */
export function testBackends(): Backend[] {
  return process.env["DATABASE_URL"] ? ["pglite", "postgres"] : ["pglite"];
}

/**
 * The one backend a whole-system drill runs on: PostgreSQL, the production database, when DATABASE_URL is set
 * (CI), else PGlite. Drills of several real processes are about the system, not the storage: the storage and API
 * suites run on both backends, and `npm start`'s embedded default has its own whole-system test
 * (e2e/first-payment-demo), so running each drill twice would only double the slowest part of the suite.
 */
export function systemBackends(): Backend[] {
  return process.env["DATABASE_URL"] ? ["postgres"] : ["pglite"];
}

export interface FreshDatabase {
  /** PostgreSQL URL of the new database; undefined for PGlite (the caller picks memory or a folder). */
  url: string | undefined;
  drop(): Promise<void>;
}

/** A new empty database on the server of DATABASE_URL, named `<prefix>_<random>`, or nothing for PGlite. */
export async function freshDatabase(backend: Backend, prefix = "mpay_test"): Promise<FreshDatabase> {
  if (backend === "pglite") return { url: undefined, drop: async () => {} };
  const serverUrl = process.env["DATABASE_URL"];
  if (!serverUrl) throw new Error("DATABASE_URL is not set");
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
export { planProblems } from "./plan-problems.ts";
