/**
 * For the key provider tests: a pay system and its app on a given database and key provider, as one pay-server
 * process would run (testing/system.ts's openTestPay makes a merchant at once, which a sealed vault refuses).
 */
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { sql } from "drizzle-orm";
import { buildApp } from "../app.ts";
import { loadConfig, type PayConfig } from "../config.ts";
import { queryRows, type Db } from "../db/client.ts";
import { openPaySystem, type PaySystem } from "../system.ts";

export interface KeysTestProcess {
  system: PaySystem;
  app: FastifyInstance;
  logLines: string[];
  close(): Promise<void>;
}

export async function openPayProcess(
  overrides: Partial<PayConfig> & Pick<PayConfig, "dataDir" | "keyProvider">,
): Promise<KeysTestProcess> {
  const config: PayConfig = {
    ...loadConfig({}),
    databaseUrl: undefined,
    embeddedDatabaseDir: undefined,
    dbPoolSize: 4,
    workers: false,
    logLevel: "info",
    ...overrides,
  };
  const logLines: string[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => void logLines.push(line) });
  const system = await openPaySystem(config, log);
  const app = await buildApp(system);
  await app.ready();
  return {
    system,
    app,
    logLines,
    async close() {
      await app.close();
      await system.close();
    },
  };
}

/** Every row of every table, as PostgreSQL renders it (`row::text`), for the "nothing secret is stored" checks. */
export async function dumpTables(db: Db): Promise<string[]> {
  const tables = await queryRows<{ name: string }>(
    db,
    sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
  );
  const rows: string[] = [];
  for (const { name } of tables) {
    for (const { text } of await queryRows<{ text: string }>(
      db,
      sql`select t::text as text from ${sql.identifier(name)} t`,
    ))
      rows.push(`${name}: ${text}`);
  }
  return rows;
}

/** Every text form of `bytes` we could imagine leaking: utf8, hex, and base64(url) at each of the 3 alignments. */
export function encodingsOf(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes);
  const forms = [buffer.toString("hex"), buffer.toString("hex").toUpperCase()];
  for (const shift of [0, 1, 2]) {
    const padded = Buffer.concat([Buffer.alloc(shift), buffer]);
    for (const encoding of ["base64", "base64url"] as const) forms.push(padded.toString(encoding).slice(4, -4));
  }
  return forms;
}

export function leaks(text: string, bytes: Uint8Array): boolean {
  return encodingsOf(bytes).some((form) => text.includes(form));
}
