/**
 * `mpay audit …`: the audit log anyone can verify (docs/architecture.md, "The audit log").
 *
 * - `audit key` prints the audit public key as a JWK Set (what `GET /.well-known/mpay-audit-key` serves);
 * - `audit export [--out FILE]` writes the log (audit/export-file.ts describes the format);
 * - `audit verify --key KEY FILE [--witness URL|FILE]` checks an export with the public key only: no database, no
 *   secret, so anyone given the file can run it;
 * - `audit verify [--witness URL|FILE]` checks the database with the provider's key (the operator's check).
 */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Writable } from "node:stream";
import { calculateJwkThumbprint } from "jose";
import { auditKeySetSchema, auditPublicJwkSchema, type AuditPublicJwk } from "@mpay/protocol";
import type { PaySystem } from "../../system.ts";
import { readAuditExport } from "../../audit/export-file.ts";
import { checkAuditLog, type AuditReport } from "../../audit/log-check.ts";
import { readWitnessedHeads } from "../../audit/witness.ts";
import type { Out } from "./io.ts";

/** Bad input to an audit command: a stable code, and a message that names the file, never its content. */
export class AuditInputError extends Error {
  constructor(
    readonly code: "audit_key_invalid" | "audit_usage" | "audit_out_exists",
    message: string,
  ) {
    super(message);
    this.name = "AuditInputError";
  }
}

export interface AuditOptions {
  key?: string;
  witness?: string;
  out?: string;
}

/** `audit verify --key KEY FILE`: runs before any system opens, since it needs neither database nor key provider. */
export async function verifyExportFile(file: string, options: AuditOptions, out: Out): Promise<number> {
  if (!options.key)
    throw new AuditInputError(
      "audit_usage",
      "audit verify FILE needs --key <the audit public key, a JWK or JWK Set file>: the file alone proves nothing",
    );
  const keys = await readAuditKeys(options.key);
  const log = await readAuditExport(file);
  const witnessed = options.witness ? await readWitnessedHeads(options.witness) : null;
  const report = await checkAuditLog(
    keys,
    { chain: log.chain, heads: log.heads, entries: log.entries() },
    witnessed?.heads.map((h) => h.head) ?? [],
  );
  printReport(report, options, out, file);
  return report.ok ? 0 : 1;
}

/** The commands that need the pay system (database, and the key provider for `key` and database `verify`). */
export async function auditCommand(sub: string, options: AuditOptions, system: PaySystem, out: Out): Promise<number> {
  switch (sub) {
    case "key": {
      const key = await system.audit.publicKey();
      const set = { keys: [key] };
      out.print(
        `audit key ${key.kid} (ES256, P-256); save this JWK Set for \`mpay audit verify --key\`:\n${JSON.stringify(set, null, 2)}`,
        set,
      );
      return 0;
    }
    case "export":
      return exportLog(options, system, out);
    case "verify": {
      const witnessed = options.witness ? await readWitnessedHeads(options.witness) : null;
      const report = await system.audit.verify(witnessed?.heads.map((h) => h.head) ?? []);
      printReport(report, options, out, null);
      return report.ok ? 0 : 1;
    }
    default:
      return -1;
  }
}

async function exportLog(options: AuditOptions, system: PaySystem, out: Out): Promise<number> {
  const target: Writable = options.out ? createWriteStream(options.out, { flags: "wx" }) : out.io.stdout;
  if (options.out) {
    // A file that exists is refused before anything is written: an export never replaces another.
    await once(target, "open").catch((error: NodeJS.ErrnoException) => {
      throw error.code === "EEXIST"
        ? new AuditInputError("audit_out_exists", `${options.out} exists already; choose another --out`)
        : error;
    });
  }
  const counts = await system.audit.export(async (line) => {
    if (!target.write(`${line}\n`)) await once(target, "drain");
  });
  if (!options.out) return 0; // stdout carries the file itself
  target.end();
  await once(target, "finish");
  out.print(`wrote ${counts.entries} entries and ${counts.heads} signed heads to ${options.out}`, {
    out: options.out,
    ...counts,
  });
  return 0;
}

function printReport(report: AuditReport, options: AuditOptions, out: Out, file: string | null): void {
  const source = file ? `${file}: ` : "";
  const witness = options.witness ? `, against ${report.witnessedHeads} witnessed heads` : "";
  const lines = report.problems.map((p) => `  ${p.kind}${p.seq !== null ? ` at seq ${p.seq}` : ""}: ${p.message}`);
  if (options.witness && report.witnessedHeads === 0)
    lines.push("  note: the witness holds no head of this log yet, so it could confirm nothing");
  const verdict = report.ok ? "audit log OK" : "audit log TAMPERED";
  out.print(
    `${source}${verdict}: ${report.entries} entries, ${report.heads} signed heads${witness}${lines.length ? `\n${lines.join("\n")}` : ""}`,
    { ...report, ...(file ? { file } : {}), ...(options.witness ? { witness: options.witness } : {}) },
  );
}

/** A JWK or a JWK Set of P-256 keys, each kid its RFC 7638 thumbprint (a mislabelled key is refused, not trusted). */
async function readAuditKeys(path: string): Promise<AuditPublicJwk[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new AuditInputError(
      "audit_key_invalid",
      `the key file ${path} ${error instanceof SyntaxError ? "is not JSON" : `cannot be read (${(error as NodeJS.ErrnoException).code ?? "read error"})`}`,
    );
  }
  const set = auditKeySetSchema.safeParse(json);
  const one = auditPublicJwkSchema.safeParse(json);
  const keys = set.success ? set.data.keys : one.success ? [one.data] : null;
  if (!keys)
    throw new AuditInputError(
      "audit_key_invalid",
      `the key file ${path} is neither an EC P-256 JWK with a kid nor a JWK Set of them (mpay audit key --json prints one)`,
    );
  for (const key of keys) {
    if ((await calculateJwkThumbprint({ kty: key.kty, crv: key.crv, x: key.x, y: key.y }, "sha256")) !== key.kid) {
      throw new AuditInputError(
        "audit_key_invalid",
        `the key file ${path} names a key by a kid that is not its RFC 7638 thumbprint`,
      );
    }
  }
  return keys;
}
