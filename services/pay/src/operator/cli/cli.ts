/**
 * `mpay`, the operator CLI. Every command takes --json for scripts. It opens the same system as the server
 * (same configuration variables), without HTTP and without workers. main.ts runs it as a process; tests call
 * `main()` in-process with streams of their own (io.ts).
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../../config.ts";
import { createLogger, openPaySystem, type PaySystem } from "../../system.ts";
import { ApiError, toApiError } from "../../http/errors.ts";
import { validateWebhookUrl } from "../../webhooks/url-guard.ts";
import { KeyProviderError } from "../../keys/provider.ts";
import { AuditFileError } from "../../audit/export-file.ts";
import { WitnessError } from "../../audit/witness.ts";
import { auditCommand, AuditInputError, verifyExportFile } from "./audit.ts";
import { unsealCommand, unsealThisProcess, vaultCommand } from "./vault.ts";
import type { CliIo, Out } from "./io.ts";
import { statementKeyCommand } from "./statement-key.ts";
import { MERCHANT_USER_USAGE, merchantUserCommand } from "./merchant-users.ts";
import { STAFF_USAGE, staffCommand } from "./staff.ts";

const USAGE = `usage: mpay <command> [options] [--json]
  migrate                                   apply database migrations
  merchant create --name NAME [--origin URL]... [--webhook-url URL] [--live]
                                            --webhook-url: a first webhook endpoint, signed with the webhook
                                            secret printed here (endpoints added through the API get their own)
  merchant roll-key --merchant ID [--live] [--expires-in SECONDS]
  merchant list
${MERCHANT_USER_USAGE}
${STAFF_USAGE}
  ledger verify                             every transaction balances; balances equal the sum of entries
  audit verify [--witness URL|FILE]         the stored audit log is intact and every head verifies (and the
                                            witness's heads are in it)
  audit verify --key KEY FILE [--witness URL|FILE]
                                            the same for an exported FILE, with the public KEY only: no database,
                                            no secret
  audit export [--out FILE]                 the whole audit log as JSON lines (stdout without --out)
  audit key                                 the audit public key (JWK Set) that signs the heads
  vault init [--shares N --threshold M]     make the first key version (shamir: split the master key M-of-N and
                                            print the custodians' shares once; pkcs11: keys inside the token)
  vault unseal [--url URL]...               post the shares read from stdin (one per line) to each pay server
  vault status [--url URL]...               provider kind, sealed or not, key versions (of this process and URLs)
  vault rotate                              new key version, then re-seal every sealed row online
  vault reseal                              re-seal rows still below the current version (an interrupted rotate
                                            or rekey; after a rekey it then deletes the replaced master's keys)
  vault rekey [--shares N --threshold M]    (shamir) a custodian leaves: M current shares on stdin authorise a
                                            new master key split M-of-N (default: as now), printed once; every
                                            row is re-sealed online and the old shares open nothing afterwards
  statement-key show                        the PIN-statement keys, their network certificates, the one that signs
  statement-key install [FILE]              install the card network's certificate of a key (stdin without FILE)
  statement-key rotate                      a new key; it signs once its certificate is installed
  --unseal                                  (shamir) unseal this CLI process first with the shares on stdin`;

/** Runs one command; the exit code, never a rejection: an error is written to `io.stderr` and exits 1. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    io.stderr.write(`mpay: ${describeError(error)}\n`);
    return 1;
  }
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      name: { type: "string" },
      origin: { type: "string", multiple: true },
      "webhook-url": { type: "string" },
      live: { type: "boolean", default: false },
      merchant: { type: "string" },
      email: { type: "string" },
      role: { type: "string" },
      "expires-in": { type: "string" },
      shares: { type: "string" },
      threshold: { type: "string" },
      url: { type: "string", multiple: true },
      unseal: { type: "boolean", default: false },
      key: { type: "string" },
      witness: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const out: Out = {
    json: values.json ?? false,
    io,
    print(human, data) {
      io.stdout.write(this.json ? JSON.stringify(data) + "\n" : human + "\n");
    },
  };
  const command = positionals.join(" ");
  if (values.help || !command) {
    io.stdout.write(USAGE + "\n");
    return command ? 0 : 2;
  }
  const audit = { key: values.key, witness: values.witness, out: values.out };
  // An export file is verified with its public key alone: no configuration, database or key provider is opened.
  if (positionals[0] === "audit" && positionals[1] === "verify" && positionals.length === 3)
    return verifyExportFile(positionals[2]!, audit, out);
  if (command === "audit verify" && values.key)
    throw new AuditInputError(
      "audit_usage",
      "--key is for verifying an exported FILE: mpay audit verify --key KEY FILE",
    );
  const config = { ...loadConfig(io.env), workers: false };
  // Unsealing talks to running servers only: it needs neither the database nor a key provider of its own.
  if (command === "vault unseal") return unsealCommand(values.url?.length ? values.url : [config.publicUrl], out);
  // On the embedded database, a running server holds the folder: the CLI works through it (issue 8).
  const system = await openPaySystem(config, createLogger(io.env["LOG_LEVEL"] ?? "warn", 2), {
    joinRunning: true,
  });
  try {
    if (values.unseal) await unsealThisProcess(system, io);
    if (command.startsWith("vault ")) {
      const code = await vaultCommand(command, values, system, out);
      if (code >= 0) return code;
    }
    if (positionals[0] === "audit" && positionals.length === 2) {
      const code = await auditCommand(positionals[1]!, audit, system, out);
      if (code >= 0) return code;
    }
    if (positionals[0] === "statement-key") {
      const code = await statementKeyCommand(positionals.slice(0, 2).join(" "), positionals.slice(2), system, out);
      if (code >= 0) return code;
    }
    if (positionals[0] === "merchant" && positionals[1] === "user") {
      const code = await merchantUserCommand(command, values, system, out);
      if (code >= 0) return code;
    }
    if (positionals[0] === "staff") {
      const code = await staffCommand(command, values, system, out);
      if (code >= 0) return code;
    }
    return await dispatch(command, values, system, out);
  } finally {
    await system.close();
  }
}

async function dispatch(
  command: string,
  values: Record<string, unknown>,
  system: PaySystem,
  out: Out,
): Promise<number> {
  switch (command) {
    case "migrate":
      out.print("migrations applied", { ok: true });
      return 0;
    case "merchant create": {
      if (typeof values["name"] !== "string") throw new Error("merchant create needs --name NAME");
      const mode: "test" | "live" = values["live"] ? "live" : "test";
      const webhookUrl = values["webhook-url"];
      // Checked before anything is made, so a bad URL leaves no merchant behind.
      if (typeof webhookUrl === "string") {
        const check = validateWebhookUrl(webhookUrl, mode);
        if (!check.ok) throw new ApiError(check.code, check.message, "webhook-url");
      }
      const created = await system.merchants.create({
        name: values["name"],
        allowedOrigins: (values["origin"] as string[] | undefined) ?? [],
        mode,
        actor: "operator:cli",
      });
      // The merchant's account secret signs this endpoint (and endpoints made before each had its own secret).
      const endpoint =
        typeof webhookUrl === "string"
          ? await system.database.db.transaction(async (tx) => {
              const auth = {
                merchantId: created.merchant.id,
                mode,
                keyId: "operator:cli",
                actor: "operator:cli",
                merchant: { ...created.merchant },
              };
              const made = await system.webhooks.createEndpoint(
                tx,
                auth,
                { url: webhookUrl },
                { useAccountSecret: true, actor: "operator:cli" },
              );
              return made.endpoint;
            })
          : null;
      const data = {
        id: created.merchant.id,
        name: created.merchant.name,
        mode: created.mode,
        secretKey: created.secretKey.peek(),
        publishableKey: created.publishableKey,
        webhookSecret: created.webhookSecret.peek(),
        webhookEndpoint: endpoint ? { id: endpoint.id, url: endpoint.url } : null,
      };
      const lines = [
        `merchant ${data.id} (${data.mode})`,
        `secret key      ${data.secretKey}`,
        `publishable key ${data.publishableKey}`,
        ...(endpoint
          ? [`webhook         ${endpoint.id} → ${endpoint.url}`, `webhook secret  ${data.webhookSecret}`]
          : []),
      ];
      out.print(lines.join("\n"), data);
      return 0;
    }
    case "merchant roll-key": {
      if (typeof values["merchant"] !== "string") throw new Error("merchant roll-key needs --merchant ID");
      const grace = Number(values["expires-in"] ?? 0);
      const rolled = await system.merchants.rollSecretKey(
        values["merchant"],
        values["live"] ? "live" : "test",
        grace,
        "operator:cli",
      );
      const data = { secretKey: rolled.secretKey.peek(), oldKeysExpireAt: rolled.oldKeysExpireAt.toISOString() };
      out.print(`new secret key  ${data.secretKey}\nold keys expire ${data.oldKeysExpireAt}`, data);
      return 0;
    }
    case "merchant list": {
      const rows = await system.merchants.list();
      out.print(
        rows.map((m) => `${m.id}  ${m.name}  ${m.allowedOrigins.join(",")}`).join("\n") || "no merchants",
        rows,
      );
      return 0;
    }
    case "ledger verify": {
      const report = await system.ledger.verify(system.database.db);
      const lines = report.problems.map(
        (p) => `  ${p.kind} ${p.ref}${p.currency ? ` ${p.currency}` : ""}: ${p.detail}`,
      );
      out.print(
        `${report.ok ? "ledger OK" : "ledger BROKEN"}: ${report.transactions} transactions, ${report.entries} entries${lines.length ? "\n" + lines.join("\n") : ""}`,
        report,
      );
      return report.ok ? 0 : 1;
    }
    default:
      out.io.stderr.write(`unknown command: ${command}\n${USAGE}\n`);
      return 2;
  }
}

function isAuditError(error: unknown): error is AuditInputError | AuditFileError | WitnessError {
  return error instanceof AuditInputError || error instanceof AuditFileError || error instanceof WitnessError;
}

/** The one line an operator sees for a failed command (after `mpay: `). */
function describeError(error: unknown): string {
  // A key provider's own message is written for the operator (it says what to run); prefer it here. The audit
  // commands' errors carry a stable code and a message that names a file or URL, never its content.
  const coded = error instanceof KeyProviderError || isAuditError(error) ? error : toApiError(error);
  let message = coded ? `${coded.code}: ${coded.message}` : error instanceof Error ? error.message : String(error);
  // A shamir CLI process starts sealed like a server, and is unsealed in its own way.
  if (coded?.code === "vault_sealed")
    message += "; this CLI process is sealed too: run the command with --unseal and pipe the shares on stdin";
  return message;
}
