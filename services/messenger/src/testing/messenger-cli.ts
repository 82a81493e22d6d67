/**
 * The messenger CLI in tests, two ways. `messenger()` calls the CLI's `main()` in this process with streams of its
 * own: no process start, no TypeScript compile of the messenger (several seconds a command on a busy machine), so
 * most cases use it. `spawnMessenger()` runs `bin/messenger.mjs` as a script does, for the case that keeps the real
 * entry point (arguments, stdin, exit code, stdout/stderr of a process) covered. Either way the environment is
 * exactly `env` (plus PATH for a process), so a test says what the CLI is given.
 */
import { spawnSync } from "node:child_process";
import { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { main } from "../cli-commands.ts";
import { loadConfig } from "../config.ts";
import { migrateDatabase, openDatabase } from "../db/client.ts";

const BIN = fileURLToPath(new URL("../../bin/messenger.mjs", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Text written to a stream, kept in memory. */
function collector(): { stream: Writable; text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

/**
 * One command in this process. Logs go to this process's stderr, not to the result (the logger writes to fd 2):
 * the check that nothing secret reaches a log line runs on the process (`spawnMessenger`), where they are caught.
 */
export async function messenger(args: string[], env: Record<string, string>, stdin = ""): Promise<CliResult> {
  const stdout = collector();
  const stderr = collector();
  const code = await main(args, {
    env,
    stdin: Readable.from([Buffer.from(stdin)]),
    stdout: stdout.stream,
    stderr: stderr.stream,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** One command as a process of its own, through the `messenger` bin (bin/messenger.mjs → tsx → cli.ts). */
export function spawnMessenger(args: string[], env: Record<string, string>, stdin = ""): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    env: { PATH: process.env["PATH"] ?? "", ...env },
    input: stdin,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Holds the PGlite folder the CLI would open with `env`, migrated and served on its socket, as a running messenger
 * does: every command then joins it (milliseconds) instead of starting PGlite itself (seconds each). Nothing to
 * hold when `env` names a PostgreSQL database.
 */
export async function holdEmbeddedDatabase(env: Record<string, string>): Promise<{ close(): Promise<void> }> {
  const config = loadConfig(env);
  if (config.databaseUrl) return { close: async () => {} };
  const database = await openDatabase({ dataDir: config.embeddedDatabaseDir, owner: "the test's messenger" });
  try {
    await migrateDatabase(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}
