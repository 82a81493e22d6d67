/**
 * The append-only, hash-chained audit log of security events (DESIGN.md: key created or rolled, refunds, admin
 * actions, PIN failures, vault operations). Each entry hashes the one before it; every append signs a new head
 * (size, newest hash, time) with the key provider's audit key, whose public half is published, so anyone can
 * check the log without a secret (`mpay audit export` / `mpay audit verify --key`), and a database dump alone can
 * neither edit, drop nor reorder entries unnoticed. Heads also go to a witness outside the pay database
 * (witness.ts), which is what catches someone who holds the key too and rewrites or truncates the log.
 *
 * Appending takes one advisory lock: audit events are rare (not one per payment), so one writer at a time is cheap
 * and keeps the chain linear across every pay-server process. An append extends only a head whose signature
 * verifies, so a head row changed in the database is never blessed by the next signature (audit_head_invalid).
 */
import type { Clock } from "@mpay/service-kit";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { AuditPublicKey, KeyProvider } from "../keys/provider.ts";
import { GENESIS_HASH, entryHash, type AuditEntryFields, type AuditHead } from "./chain.ts";
import { AUDIT_EXPORT_FORMAT, exportLine } from "./export-file.ts";
import { checkAuditLog, type AuditProblem, type AuditReport } from "./log-check.ts";
import { readHead, signHead } from "./signed-head.ts";
import {
  allEntries,
  insertEntry,
  insertSignedHead,
  latestSignedHead,
  legacyHead,
  lockAppends,
  signedHeads,
  type LegacyHeadRow,
  type SignedHeadRow,
} from "./store.ts";

export const AUDIT_CHAIN = "main";
const encoder = new TextEncoder();

export type { AuditProblem, AuditReport } from "./log-check.ts";

export interface AuditEvent {
  /** Who acted: `merchant:mch_…`, `operator:cli`, `system`, later `payer:usr_…`. */
  actor: string;
  /** Dotted verb, e.g. `api_key.rolled`, `refund.created`. */
  action: string;
  target?: string | null;
  /** Facts about the event; never a secret (the callers pass ids, amounts and last-4s only). */
  data?: Record<string, unknown>;
}

/** What the MAC of a head covered before heads were signed. */
function legacyHeadMessage(seq: number, hash: string): Uint8Array {
  return encoder.encode(`mpay-audit-head/v1|${AUDIT_CHAIN}|${seq}|${hash}`);
}

export class AuditService {
  #publicKey: Promise<AuditPublicKey> | undefined;

  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    private readonly clock: Clock,
  ) {}

  /** Appends inside the caller's transaction, so the event commits (or not) with the change it records. */
  async append(tx: Executor, event: AuditEvent): Promise<void> {
    await lockAppends(tx);
    const previous = await this.#trustedHead(tx);
    const now = this.clock.now();
    const fields: AuditEntryFields = {
      seq: previous.seq + 1,
      at: now.toISOString(),
      actor: event.actor,
      action: event.action,
      target: event.target ?? null,
      data: event.data ?? {},
    };
    const hash = entryHash(previous.hash, fields);
    await insertEntry(tx, { ...fields, prevHash: previous.hash, hash });
    const signed = await signHead(this.keys, { chain: AUDIT_CHAIN, size: fields.seq, hash, timestamp: fields.at });
    await insertSignedHead(tx, {
      chain: AUDIT_CHAIN,
      size: fields.seq,
      hash,
      signedAt: now,
      kid: signed.kid,
      jws: signed.jws,
    });
  }

  /** Appends in a transaction of its own. */
  record(event: AuditEvent): Promise<void> {
    return this.db.transaction((tx) => this.append(tx, event));
  }

  /** The audit key as published; one key for the log's life, so it is asked of the provider once. */
  publicKey(): Promise<AuditPublicKey> {
    const asked = (this.#publicKey ??= this.keys.auditPublicKey());
    asked.catch(() => (this.#publicKey = undefined)); // sealed now, unsealed later
    return asked;
  }

  /** The head with the most entries, for the witness. */
  latestHead(): Promise<SignedHeadRow | null> {
    return latestSignedHead(this.db, AUDIT_CHAIN);
  }

  /**
   * Checks the stored log with the audit key (`mpay audit verify`), and against `witnessed` heads (compact JWS)
   * when given: a rewrite or truncation before a witnessed head fails even if it was re-signed with the key.
   */
  async verify(witnessed: readonly string[] = []): Promise<AuditReport> {
    const key = await this.publicKey();
    const heads = (await signedHeads(this.db, AUDIT_CHAIN)).map((row) => row.jws);
    const problems: AuditProblem[] = [];
    let legacy: AuditHead | null = null;
    if (heads.length === 0) {
      const row = await legacyHead(this.db, AUDIT_CHAIN);
      if (row && (await this.#legacyMacValid(row))) legacy = { seq: row.seq, hash: row.hash };
      else if (row)
        problems.push({
          seq: row.seq,
          kind: "head_forged",
          message:
            "the chain head from before heads were signed has a MAC that does not verify: it was written without the key provider",
        });
    }
    const report = await checkAuditLog(
      [key],
      { chain: AUDIT_CHAIN, heads, legacyHead: legacy, entries: allEntries(this.db) },
      witnessed,
    );
    problems.push(...report.problems);
    return { ...report, ok: problems.length === 0, problems };
  }

  /**
   * Writes the whole log as export-file.ts describes, one line per call of `write`: every entry that is stored
   * (tampered or not: the export shows what the database holds) and the signed heads up to the last entry written.
   */
  async export(write: (line: string) => Promise<void> | void): Promise<{ entries: number; heads: number }> {
    await write(
      exportLine({
        kind: "log",
        format: AUDIT_EXPORT_FORMAT,
        chain: AUDIT_CHAIN,
        exportedAt: this.clock.now().toISOString(),
      }),
    );
    let entries = 0;
    let last = 0;
    for await (const row of allEntries(this.db)) {
      const { seq, at, actor, action, target, data, prevHash, hash } = row;
      await write(exportLine({ kind: "entry", seq, at, actor, action, target, data, prevHash, hash }));
      entries += 1;
      last = Math.max(last, seq);
    }
    // Heads after the entries, up to the last one written: an append while this ran adds an entry and a head in one
    // transaction, so a head without its entry here would only be a race, never a finding.
    const heads = await signedHeads(this.db, AUDIT_CHAIN, last);
    for (const head of heads) await write(exportLine({ kind: "head", jws: head.jws }));
    return { entries, heads: heads.length };
  }

  /**
   * The head the next entry extends: the newest signed head, if its signature verifies (its JWS, not the columns
   * beside it, says what it states); before the first signed head, the MACed head of the upgrade, if its MAC does.
   */
  async #trustedHead(tx: Executor): Promise<AuditHead> {
    const latest = await latestSignedHead(tx, AUDIT_CHAIN);
    if (latest) {
      const read = await readHead(latest.jws, [await this.publicKey()]);
      if (!read.ok || read.head.payload.chain !== AUDIT_CHAIN) throw headInvalid();
      return { seq: read.head.payload.size, hash: read.head.payload.hash };
    }
    const legacy = await legacyHead(tx, AUDIT_CHAIN);
    if (!legacy) return { seq: 0, hash: GENESIS_HASH };
    if (!(await this.#legacyMacValid(legacy))) throw headInvalid();
    return { seq: legacy.seq, hash: legacy.hash };
  }

  #legacyMacValid(row: LegacyHeadRow): Promise<boolean> {
    return this.keys
      .verifyMac("audit-head", legacyHeadMessage(row.seq, row.hash), row.tag, row.keyVersion)
      .catch(() => false);
  }
}

function headInvalid(): ApiError {
  return new ApiError(
    "audit_head_invalid",
    "The audit log's newest head does not verify under the audit key: it was changed in the database. Nothing audited is done until an operator runs `mpay audit verify`.",
  );
}
