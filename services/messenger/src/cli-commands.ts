/**
 * `messenger`, the messenger's CLI for scripts and operators. It opens the same system as the server (same
 * environment variables, migrations applied), without HTTP. Every command takes --json. cli.ts runs it as a
 * process; tests call `main()` in-process with streams of their own, which spares each command a process start.
 *
 *   messenger migrate
 *   messenger account create --phone +821012345678 --name "Kim Minji" --password … [--json]
 *
 * A password on the command line is visible to other users of the machine (ps, shell history): the flag exists for
 * demo scripts; `--password-stdin` reads it from standard input instead.
 */
import type { Readable, Writable } from "node:stream";
import { text } from "node:stream/consumers";
import { parseArgs } from "node:util";
import { Secret } from "@mpay/protocol";
import { loadConfig } from "./config.ts";
import { createLogger, openMessengerSystem, type MessengerSystem } from "./system.ts";
import { ApiError, fromZod, toApiError } from "./http/errors.ts";
import { accountInput } from "./accounts/input.ts";

const USAGE = `usage: messenger <command> [options] [--json]
  migrate                                          apply database migrations
  account create --phone E164 --name NAME (--password PASSWORD | --password-stdin)`;

/** Where one run reads and writes: the process's own (cli.ts), or a test's. */
export interface CliIo {
  /** The configuration variables (config.ts) and LOG_LEVEL. */
  env: NodeJS.ProcessEnv;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

class UsageError extends Error {}

/** Runs one command; the exit code, never a rejection: an error is written to `io.stderr` and exits 1. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    const known = error instanceof UsageError ? null : toApiError(error);
    if (error instanceof UsageError) io.stderr.write(`${error.message}\n${USAGE}\n`);
    else if (known instanceof ApiError) io.stderr.write(`error: ${known.code}: ${known.message}\n`);
    else io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      phone: { type: "string" },
      name: { type: "string" },
      password: { type: "string" },
      "password-stdin": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  const json = values.json ?? false;
  const print = (human: string, data: unknown) => io.stdout.write(json ? JSON.stringify(data) + "\n" : human + "\n");
  const command = positionals.join(" ");
  if (values.help || !command) {
    io.stdout.write(USAGE + "\n");
    return command ? 0 : 2;
  }
  if (command !== "migrate" && command !== "account create") {
    io.stderr.write(`unknown command: ${command}\n${USAGE}\n`);
    return 2;
  }
  let password: string | undefined = values.password;
  if (command === "account create") {
    if (values["password-stdin"]) password = (await text(io.stdin)).replace(/\r?\n$/, "");
    if (values.phone === undefined || values.name === undefined || password === undefined) {
      throw new UsageError("account create needs --phone, --name and --password (or --password-stdin)");
    }
  }
  // On the embedded database, a running messenger holds the folder: the CLI works through it (issue 8).
  const system = await openMessengerSystem({ ...loadConfig(io.env) }, createLogger(io.env["LOG_LEVEL"] ?? "warn", 2), {
    joinRunning: true,
  });
  try {
    return await dispatch(command, { phone: values.phone, name: values.name, password }, system, print);
  } finally {
    await system.close();
  }
}

async function dispatch(
  command: string,
  args: { phone: string | undefined; name: string | undefined; password: string | undefined },
  system: MessengerSystem,
  print: (human: string, data: unknown) => void,
): Promise<number> {
  if (command === "migrate") {
    print("migrations applied", { ok: true });
    return 0;
  }
  const parsed = accountInput.safeParse({ phoneNumber: args.phone, displayName: args.name, password: args.password });
  if (!parsed.success) throw fromZod(parsed.error);
  const { password, ...rest } = parsed.data;
  const account = await system.accounts.create({ ...rest, password: new Secret(password) });
  const data = {
    id: account.id,
    phoneNumber: account.phoneNumber,
    displayName: account.displayName,
    createdAt: account.createdAt.toISOString(),
  };
  print(`account ${data.id}  ${data.phoneNumber}  ${data.displayName}`, data);
  return 0;
}
