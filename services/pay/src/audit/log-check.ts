/**
 * Verifies an audit log — from the database or from an export file — with public keys only: every signed head's
 * signature, every hash link, every entry against the newest signed head and against every earlier head, signed
 * or kept by the witness (chain.ts). The same code serves `mpay audit verify` against the database and against a
 * file, so both find the same problems.
 */
import type { AuditPublicJwk } from "@mpay/protocol";
import {
  ChainVerifier,
  type AuditHead,
  type ChainProblemKind,
  type Checkpoint,
  type StoredAuditEntry,
} from "./chain.ts";
import { readHead } from "./signed-head.ts";

export type AuditProblemKind = ChainProblemKind | "head_forged" | "witnessed_head_invalid" | "unsealed";
export type AuditProblem = { seq: number | null; kind: AuditProblemKind; message: string };

export interface AuditReport {
  ok: boolean;
  entries: number;
  /** Signed heads of the log that verified. */
  heads: number;
  /** Heads the witness kept that verified (0 when no witness was asked). */
  witnessedHeads: number;
  problems: AuditProblem[];
}

export interface LogToCheck {
  chain: string;
  /** The log's signed heads (compact JWS), in any order. */
  heads: readonly string[];
  /** Before any head was signed: the MAC-checked head of the upgrade (service.ts), if there is one. */
  legacyHead?: AuditHead | null;
  /** Entries in storage order. */
  entries: AsyncIterable<StoredAuditEntry> | Iterable<StoredAuditEntry>;
}

export async function checkAuditLog(
  keys: readonly AuditPublicJwk[],
  log: LogToCheck,
  witnessed: readonly string[] = [],
): Promise<AuditReport> {
  const problems: AuditProblem[] = [];
  const checkpoints: Checkpoint[] = [];
  let newest: AuditHead | null = null;
  let heads = 0;
  for (const jws of log.heads) {
    const read = await readHead(jws, keys);
    if (!read.ok || read.head.payload.chain !== log.chain) {
      problems.push({
        seq: null,
        kind: "head_forged",
        message: `a signed head of the log does not verify under the audit key: ${read.ok ? "it is for another chain" : read.message}`,
      });
      continue;
    }
    heads += 1;
    const { size, hash } = read.head.payload;
    checkpoints.push({ seq: size, hash, source: "signed" });
    if (!newest || size > newest.seq) newest = { seq: size, hash };
  }
  let witnessedHeads = 0;
  for (const jws of witnessed) {
    const read = await readHead(jws, keys);
    if (!read.ok || read.head.payload.chain !== log.chain) {
      problems.push({
        seq: null,
        kind: "witnessed_head_invalid",
        message: `the witness holds a head that does not verify under this audit key (another log's witness, or a head planted there): ${read.ok ? "it is for another chain" : read.message}`,
      });
      continue;
    }
    witnessedHeads += 1;
    checkpoints.push({ seq: read.head.payload.size, hash: read.head.payload.hash, source: "witnessed" });
  }

  const verifier = new ChainVerifier(newest ?? log.legacyHead ?? null, checkpoints);
  let entries = 0;
  for await (const entry of log.entries) {
    verifier.add(entry);
    entries += 1;
  }
  const verdict = verifier.finish();
  if (!verdict.ok) problems.push(...verdict.problems);
  return { ok: problems.length === 0, entries, heads, witnessedHeads, problems };
}
