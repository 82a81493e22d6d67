/**
 * The operator CLI in tests, two ways. `mpay()` calls the CLI's `main()` in this process with streams of its own:
 * no process start, no TypeScript compile of the whole pay server (about 10 s a command on a busy machine), so
 * most cases use it. `spawnMpay()` runs `scripts/mpay.mjs` as an operator does, for the few cases that keep the
 * real entry point (arguments, exit code, stdout/stderr of a process) covered. Either way the environment is
 * exactly `env` (plus PATH for a process), so a test says what the CLI is given, and shares go in on stdin only.
 */
import { spawn } from "node:child_process";
import { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../config.ts";
import { migrateDatabase, openDatabase } from "../db/client.ts";
import { main } from "../operator/cli/cli.ts";

const MPAY = fileURLToPath(new URL("../../../../scripts/mpay.mjs", import.meta.url));

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
 * One command in this process. Logs go to this process's stderr, not to the result (the logger writes to fd 2),
 * so LOG_LEVEL defaults to "error" here: the dev key provider's warning on every command is noise in a test run.
 */
export async function mpay(args: string[], env: Record<string, string>, stdin = ""): Promise<CliResult> {
  const stdout = collector();
  const stderr = collector();
  const code = await main(args, {
    env: { LOG_LEVEL: "error", ...env },
    stdin: Readable.from([Buffer.from(stdin)]),
    stdout: stdout.stream,
    stderr: stderr.stream,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** One command as a process of its own, through the `mpay` bin (scripts/mpay.mjs → tsx → main.ts). */
export function spawnMpay(args: string[], env: Record<string, string>, stdin = ""): Promise<CliResult> {
  // Asynchronous, never spawnSync: the test process may be serving the embedded database the command joins
  // (holdEmbeddedDatabase), and a blocked event loop would leave the command waiting on its socket until the timeout.
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MPAY, ...args], {
      env: { PATH: process.env["PATH"] ?? "", ...env },
      stdio: ["pipe", "pipe", "pipe"],
      timeout: 120_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/**
 * Holds the PGlite folder the CLI would open with `env`, migrated and served on its socket, as a running pay
 * server does: every command then joins it (milliseconds) instead of starting PGlite itself (seconds each).
 * Nothing to hold when `env` names a PostgreSQL database.
 */
export async function holdEmbeddedDatabase(env: Record<string, string>): Promise<{ close(): Promise<void> }> {
  const config = loadConfig(env);
  if (config.databaseUrl) return { close: async () => {} };
  const database = await openDatabase({ dataDir: config.embeddedDatabaseDir, owner: "the test's pay server" });
  try {
    await migrateDatabase(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}
