/**
 * The append-only, hash-chained audit log of security events (DESIGN.md: key created or rolled, refunds, admin
 * actions, later PIN failures and vault operations). Each entry hashes the one before it; the newest hash is the
 * chain head, MACed by the key provider, so a database dump alone can neither edit, drop nor reorder entries
 * without `mpay audit verify` noticing.
 *
 * Appending locks the head row: audit events are rare (not one per payment), so one writer at a time is cheap
 * and keeps the chain linear across every pay-server process.
 */
import type { Db, Executor } from "../db/client.ts";
import type { KeyProvider } from "../keys/provider.ts";
import { GENESIS_HASH, entryHash, verifyChain, type AuditEntryFields } from "./chain.ts";
import { allEntries, insertEntry, lockHead, readHead, writeHead } from "./store.ts";

const CHAIN = "main";
const encoder = new TextEncoder();

export interface AuditEvent {
  /** Who acted: `merchant:mch_…`, `operator:cli`, `system`, later `payer:usr_…`. */
  actor: string;
  /** Dotted verb, e.g. `api_key.rolled`, `refund.created`. */
  action: string;
  target?: string | null;
  /** Facts about the event; never a secret (the callers pass ids, amounts and last-4s only). */
  data?: Record<string, unknown>;
}

export type AuditProblem = { seq: number | null; kind: string; message: string };

export interface AuditReport {
  ok: boolean;
  entries: number;
  problems: AuditProblem[];
}

function headMessage(seq: number, hash: string): Uint8Array {
  return encoder.encode(`mpay-audit-head/v1|${CHAIN}|${seq}|${hash}`);
}

export class AuditService {
  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
  ) {}

  /** Appends inside the caller's transaction, so the event commits (or not) with the change it records. */
  async append(tx: Executor, event: AuditEvent): Promise<void> {
    const head = await lockHead(tx, CHAIN);
    const fields: AuditEntryFields = {
      seq: (head?.seq ?? 0) + 1,
      at: new Date().toISOString(),
      actor: event.actor,
      action: event.action,
      target: event.target ?? null,
      data: event.data ?? {},
    };
    const prevHash = head?.hash ?? GENESIS_HASH;
    const hash = entryHash(prevHash, fields);
    const { keyVersion, tag } = await this.keys.mac("audit-head", headMessage(fields.seq, hash));
    await insertEntry(tx, { ...fields, prevHash, hash });
    await writeHead(tx, { chain: CHAIN, seq: fields.seq, hash, tag, keyVersion });
  }

  /** Appends in a transaction of its own. */
  record(event: AuditEvent): Promise<void> {
    return this.db.transaction((tx) => this.append(tx, event));
  }

  async verify(): Promise<AuditReport> {
    const [rows, head] = await Promise.all([allEntries(this.db), readHead(this.db, CHAIN)]);
    const problems: AuditProblem[] = [];
    if (head) {
      const signed = await this.keys
        .verifyMac("audit-head", headMessage(head.seq, head.hash), head.tag, head.keyVersion)
        .catch(() => false);
      if (!signed) problems.push({ seq: head.seq, kind: "head_forged", message: "the chain head's MAC does not verify: the head was written without the key provider" });
    }
    const result = verifyChain(
      rows.map((r) => ({ seq: r.seq, at: r.at, actor: r.actor, action: r.action, target: r.target, data: r.data, prevHash: r.prevHash, hash: r.hash })),
      head ? { seq: head.seq, hash: head.hash } : null,
    );
    if (!result.ok) problems.push(...result.problems);
    return { ok: problems.length === 0, entries: rows.length, problems };
  }
}
