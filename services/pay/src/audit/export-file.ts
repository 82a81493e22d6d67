/**
 * The audit log as a file anyone can verify (`mpay audit export`, `mpay audit verify --key K FILE`): JSON lines,
 * UTF-8, one object per line, in this order:
 *
 *   {"kind":"log","format":"mpay-audit-log/1","chain":"main","exportedAt":"2026-03-01T10:00:00.000Z"}
 *   {"kind":"entry","seq":1,"at":"…","actor":"…","action":"…","target":null,"data":{…},"prevHash":"<64 hex>","hash":"<64 hex>"}
 *   … every stored entry, by seq …
 *   {"kind":"head","jws":"<compact JWS>"}
 *   … every signed head, by size …
 *
 * An entry's `hash` is SHA-256 (hex) of `prevHash + "\n" + JCS({seq, at, actor, action, target, data})` (RFC 8785
 * canonical JSON), `prevHash` the previous entry's hash, 64 zeros for entry 1 (chain.ts). A head is an ES256 JWS
 * (packages/protocol audit.ts) stating `{chain, size, hash, timestamp}`: the log had `size` entries and entry
 * `size` had `hash`. A verifier needs the pay server's audit public key and nothing else.
 *
 * Reading checks the shape of every line and names the line of the first bad one, never its content. It reads the
 * file twice (heads, then entries), so a large log is never held in memory.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { auditHashSchema, signedAuditHeadSchema } from "@mpay/protocol";
import { z } from "zod";
import type { StoredAuditEntry } from "./chain.ts";

export const AUDIT_EXPORT_FORMAT = "mpay-audit-log/1";

const logLine = z.strictObject({
  kind: z.literal("log"),
  format: z.literal(AUDIT_EXPORT_FORMAT),
  chain: z.string().min(1).max(32),
  exportedAt: z.string(),
});
const entryLine = z.strictObject({
  kind: z.literal("entry"),
  seq: z.number().int().safe(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  prevHash: auditHashSchema,
  hash: auditHashSchema,
});
const headLine = z.strictObject({ kind: z.literal("head"), jws: signedAuditHeadSchema });
const line = z.discriminatedUnion("kind", [logLine, entryLine, headLine]);
export type ExportLine = z.infer<typeof line>;

/** One line of the file (without its newline). */
export function exportLine(value: ExportLine): string {
  return JSON.stringify(value);
}

export class AuditFileError extends Error {
  readonly code = "audit_file_invalid";
  constructor(message: string) {
    super(message);
    this.name = "AuditFileError";
  }
}

export interface AuditExport {
  chain: string;
  heads: string[];
  /** The entries in file order; each call reads the file again. */
  entries(): AsyncIterable<StoredAuditEntry>;
}

export async function readAuditExport(path: string): Promise<AuditExport> {
  let chain: string | null = null;
  const heads: string[] = [];
  let seenHead = false;
  for await (const [number, parsed] of lines(path)) {
    if (chain === null) {
      if (parsed.kind !== "log")
        throw new AuditFileError(
          `line ${number} of ${path} must be the "log" line naming the format ${AUDIT_EXPORT_FORMAT}`,
        );
      chain = parsed.chain;
    } else if (parsed.kind === "log") {
      throw new AuditFileError(`line ${number} of ${path}: only the first line is a "log" line`);
    } else if (parsed.kind === "head") {
      seenHead = true;
      heads.push(parsed.jws);
    } else if (seenHead) {
      throw new AuditFileError(`line ${number} of ${path}: entries come before the heads`);
    }
  }
  if (chain === null) throw new AuditFileError(`${path} is empty`);
  return {
    chain,
    heads,
    async *entries() {
      for await (const [, parsed] of lines(path)) {
        if (parsed.kind !== "entry") continue;
        const { kind: _kind, ...entry } = parsed;
        yield entry;
      }
    },
  };
}

async function* lines(path: string): AsyncGenerator<[number, ExportLine]> {
  const reader = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const text of reader) {
      number += 1;
      if (text.trim() === "") continue;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new AuditFileError(`line ${number} of ${path} is not JSON`);
      }
      const parsed = line.safeParse(json);
      if (!parsed.success)
        throw new AuditFileError(
          `line ${number} of ${path} is not a ${AUDIT_EXPORT_FORMAT} line (field ${parsed.error.issues[0]?.path.join(".") || "kind"})`,
        );
      yield [number, parsed.data];
    }
  } catch (error) {
    if (error instanceof AuditFileError) throw error;
    throw new AuditFileError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "read error"}`);
  } finally {
    reader.close();
  }
}
