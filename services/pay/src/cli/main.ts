/**
 * `mpay`, the operator CLI. Every command takes --json for scripts. It opens the same system as the server
 * (same configuration variables), without HTTP and without workers.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config.ts";
import { createLogger, openPaySystem, type PaySystem } from "../system.ts";
import { toApiError } from "../http/errors.ts";

const USAGE = `usage: mpay <command> [options] [--json]
  migrate                                   apply database migrations
  merchant create --name NAME [--origin URL]... [--live]
  merchant roll-key --merchant ID [--live] [--expires-in SECONDS]
  merchant list
  ledger verify                             every transaction balances; balances equal the sum of entries
  audit verify                              the audit chain is intact and its head is signed`;

type Out = { json: boolean; print(human: string, data: unknown): void };

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      name: { type: "string" },
      origin: { type: "string", multiple: true },
      live: { type: "boolean", default: false },
      merchant: { type: "string" },
      "expires-in": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const out: Out = {
    json: values.json ?? false,
    print(human, data) {
      process.stdout.write(this.json ? JSON.stringify(data) + "\n" : human + "\n");
    },
  };
  const command = positionals.join(" ");
  if (values.help || !command) {
    process.stdout.write(USAGE + "\n");
    return command ? 0 : 2;
  }
  const config = { ...loadConfig(), workers: false };
  const system = await openPaySystem(config, createLogger(process.env["LOG_LEVEL"] ?? "warn", 2));
  try {
    return await dispatch(command, values, system, out);
  } finally {
    await system.close();
  }
}

async function dispatch(command: string, values: Record<string, unknown>, system: PaySystem, out: Out): Promise<number> {
  switch (command) {
    case "migrate":
      out.print("migrations applied", { ok: true });
      return 0;
    case "merchant create": {
      if (typeof values["name"] !== "string") throw new Error("merchant create needs --name NAME");
      const created = await system.merchants.create({
        name: values["name"],
        allowedOrigins: (values["origin"] as string[] | undefined) ?? [],
        mode: values["live"] ? "live" : "test",
        actor: "operator:cli",
      });
      const data = {
        id: created.merchant.id,
        name: created.merchant.name,
        mode: created.mode,
        secretKey: created.secretKey.peek(),
        publishableKey: created.publishableKey,
        webhookSecret: created.webhookSecret.peek(),
      };
      out.print(`merchant ${data.id} (${data.mode})\nsecret key      ${data.secretKey}\npublishable key ${data.publishableKey}\nwebhook secret  ${data.webhookSecret}`, data);
      return 0;
    }
    case "merchant roll-key": {
      if (typeof values["merchant"] !== "string") throw new Error("merchant roll-key needs --merchant ID");
      const grace = Number(values["expires-in"] ?? 0);
      const rolled = await system.merchants.rollSecretKey(values["merchant"], values["live"] ? "live" : "test", grace, "operator:cli");
      const data = { secretKey: rolled.secretKey.peek(), oldKeysExpireAt: rolled.oldKeysExpireAt.toISOString() };
      out.print(`new secret key  ${data.secretKey}\nold keys expire ${data.oldKeysExpireAt}`, data);
      return 0;
    }
    case "merchant list": {
      const rows = await system.merchants.list();
      out.print(rows.map((m) => `${m.id}  ${m.name}  ${m.allowedOrigins.join(",")}`).join("\n") || "no merchants", rows);
      return 0;
    }
    case "ledger verify": {
      const report = await system.ledger.verify(system.database.db);
      const lines = report.problems.map((p) => `  ${p.kind} ${p.ref}${p.currency ? ` ${p.currency}` : ""}: ${p.detail}`);
      out.print(`${report.ok ? "ledger OK" : "ledger BROKEN"}: ${report.transactions} transactions, ${report.entries} entries${lines.length ? "\n" + lines.join("\n") : ""}`, report);
      return report.ok ? 0 : 1;
    }
    case "audit verify": {
      const report = await system.audit.verify();
      const lines = report.problems.map((p) => `  ${p.kind}${p.seq !== null ? ` at seq ${p.seq}` : ""}: ${p.message}`);
      out.print(`${report.ok ? "audit log OK" : "audit log TAMPERED"}: ${report.entries} entries${lines.length ? "\n" + lines.join("\n") : ""}`, report);
      return report.ok ? 0 : 1;
    }
    default:
      process.stderr.write(`unknown command: ${command}\n${USAGE}\n`);
      return 2;
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const apiError = toApiError(error);
    const message = apiError ? `${apiError.code}: ${apiError.message}` : error instanceof Error ? error.message : String(error);
    process.stderr.write(`mpay: ${message}\n`);
    process.exit(1);
  },
);
