/**
 * `messenger`, the messenger's CLI for scripts and operators. It opens the same system as the server (same
 * environment variables, migrations applied), without HTTP. Every command takes --json.
 *
 *   messenger migrate
 *   messenger account create --phone +821012345678 --name "Kim Minji" --password … [--json]
 *
 * A password on the command line is visible to other users of the machine (ps, shell history): the flag exists for
 * demo scripts; `--password-stdin` reads it from standard input instead.
 */
import { parseArgs } from "node:util";
import { text } from "node:stream/consumers";
import { Secret } from "@mpay/protocol";
import { loadConfig } from "./config.ts";
import { createLogger, openMessengerSystem, type MessengerSystem } from "./system.ts";
import { ApiError, fromZod, toApiError } from "./http/errors.ts";
import { accountInput } from "./accounts/input.ts";

const USAGE = `usage: messenger <command> [options] [--json]
  migrate                                          apply database migrations
  account create --phone E164 --name NAME (--password PASSWORD | --password-stdin)`;

class UsageError extends Error {}

async function run(argv: string[]): Promise<number> {
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
  const print = (human: string, data: unknown) =>
    process.stdout.write(json ? JSON.stringify(data) + "\n" : human + "\n");
  const command = positionals.join(" ");
  if (values.help || !command) {
    process.stdout.write(USAGE + "\n");
    return command ? 0 : 2;
  }
  if (command !== "migrate" && command !== "account create") {
    process.stderr.write(`unknown command: ${command}\n${USAGE}\n`);
    return 2;
  }
  let password: string | undefined = values.password;
  if (command === "account create") {
    if (values["password-stdin"]) password = (await text(process.stdin)).replace(/\r?\n$/, "");
    if (values.phone === undefined || values.name === undefined || password === undefined) {
      throw new UsageError("account create needs --phone, --name and --password (or --password-stdin)");
    }
  }
  // On the embedded database, a running messenger holds the folder: the CLI works through it (issue 8).
  const system = await openMessengerSystem({ ...loadConfig() }, createLogger(process.env["LOG_LEVEL"] ?? "warn", 2), {
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

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known = error instanceof UsageError ? null : toApiError(error);
    if (error instanceof UsageError) process.stderr.write(`${error.message}\n${USAGE}\n`);
    else if (known instanceof ApiError) process.stderr.write(`error: ${known.code}: ${known.message}\n`);
    else process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
