/**
 * The append-only, hash-chained audit log of security events (DESIGN.md: key created or rolled, refunds, admin
 * actions, PIN failures, vault operations, captures and approvals). Each entry hashes the one before it; each
 * sealed batch signs a new head (size, newest hash, time) with the key provider's audit key, whose public half is
 * published, so anyone can check the log without a secret (`mpay audit export` / `mpay audit verify --key`), and a
 * database dump alone can neither edit, drop nor reorder entries unnoticed. Heads also go to a witness outside the
 * pay database (witness.ts), which is what catches someone who holds the key too and rewrites or truncates the log.
 *
 * Group commit (issue 11; Certificate Transparency's merge delay as the model). `append` only inserts the event
 * into `audit_pending` inside the caller's transaction (one statement, no lock, no signature), so the event commits
 * or not with the change it records, and audited payments no longer queue behind one another. The sealer (`seal`)
 * links committed pending entries into the one chain in batches: in a transaction of its own, under one advisory
 * lock (every process's sealers take turns, so the chain stays linear), it takes up to BATCH entries in id order,
 * gives them seqs, chains their hashes (chain.ts), inserts them into `audit_log` and signs ONE head for the batch.
 * It extends only a head whose signature verifies (audit_head_invalid otherwise), so a head row changed in the
 * database is never blessed by the next signature; the head this process last verified or signed is remembered, so
 * the common batch verifies nothing. Each process seals 50 ms after its appends (AuditSealer, sealer.ts) and
 * sweeps every second for the leftovers of a process that crashed; `record` seals in its own transaction before it
 * returns; every read through this service (verify, export, latestHead) seals first, so a reader sees its writes.
 *
 * The window, stated plainly: an entry is in the chain, under a signed head, within the merge delay (50 ms when
 * the pay server runs; at most the sweep's second after a crash). Until then it is a plain row: a database writer
 * could delete a pending entry within that window unnoticed, as a CT log could drop a submission before its MMD.
 * `verify` reports every entry still pending after UNSEALED_AFTER_MS (60 s) as `unsealed` (a stuck sequencer, or
 * someone who keeps an entry out of the chain by holding its row locked). After sealing, the witness covers the
 * heads as before. While this process's sealer finds the newest head invalid, `append` refuses too
 * (audit_head_invalid), so audited operations stop until an operator looks, as they did when appends signed.
 */
import type { Clock } from "@mpay/service-kit";
import type { Db, Executor } from "../db/client.ts";
import { ApiError } from "../http/errors.ts";
import type { AuditPublicKey, KeyProvider } from "../keys/provider.ts";
import { GENESIS_HASH, entryHash, type AuditHead } from "./chain.ts";
import { AUDIT_EXPORT_FORMAT, exportLine } from "./export-file.ts";
import { checkAuditLog, type AuditProblem, type AuditReport } from "./log-check.ts";
import { readHead, signHead } from "./signed-head.ts";
import {
  allEntries,
  anyPending,
  insertEntries,
  insertPending,
  insertSignedHead,
  latestSignedHead,
  legacyHead,
  lockAppends,
  pendingBefore,
  signedHeads,
  takePending,
  type AuditRow,
  type LegacyHeadRow,
  type SignedHeadRow,
} from "./store.ts";

export const AUDIT_CHAIN = "main";
/** The most entries one batch links under one head (one multi-row insert, one signature). */
const BATCH = 500;
/** How long an entry may wait unsealed before `verify` reports it (CT's maximum merge delay, generously). */
const UNSEALED_AFTER_MS = 60_000;
const encoder = new TextEncoder();

export type { AuditProblem, AuditReport } from "./log-check.ts";

export interface AuditOptions {
  /** After how long a pending entry is a problem for `verify` (`unsealed`); default 60 s. */
  unsealedAfterMs?: number;
  /** Entries per sealed batch; default 500. */
  batchSize?: number;
}

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
  /** The newest head this process verified or signed: its JWS and what it states (a JWS verifies or not for good). */
  #trusted: { jws: string; head: AuditHead } | null = null;
  /** Set while this process's last seal found the newest head invalid: appends refuse until a seal verifies one. */
  #headInvalid = false;
  /** The seal running now, and the one queued behind it (which sees what committed after the running one began). */
  #running: Promise<number> | null = null;
  #queued: Promise<number> | null = null;
  #appended: (() => void) | null = null;
  readonly #unsealedAfterMs: number;
  readonly #batchSize: number;

  constructor(
    private readonly db: Db,
    private readonly keys: KeyProvider,
    private readonly clock: Clock,
    options: AuditOptions = {},
  ) {
    this.#unsealedAfterMs = options.unsealedAfterMs ?? UNSEALED_AFTER_MS;
    this.#batchSize = options.batchSize ?? BATCH;
  }

  /**
   * Appends inside the caller's transaction, so the event commits (or not) with the change it records: one insert
   * into the pending entries, which the sealer links into the chain within the merge delay (header comment).
   */
  async append(tx: Executor, event: AuditEvent): Promise<void> {
    if (this.#headInvalid) throw headInvalid();
    // A sealed shamir process cannot sign, so it audits nothing (vault_sealed), as when every append signed.
    if (this.keys.isSealed()) await this.keys.auditPublicKey();
    await insertPending(tx, this.#pending(event));
    this.#appended?.();
  }

  /** Appends in a transaction of its own, sealed before it returns: a caller who then reads the log sees it. */
  record(event: AuditEvent): Promise<void> {
    return this.db.transaction(async (tx) => {
      await insertPending(tx, this.#pending(event));
      while ((await this.#sealBatch(tx)) === this.#batchSize);
    });
  }

  /** Called after each append (the sealer's trigger, sealer.ts); one listener. */
  onAppend(listener: (() => void) | null): void {
    this.#appended = listener;
  }

  /**
   * Links every committed pending entry into the chain, a batch (one head) at a time; returns how many. Cheap when
   * nothing is pending (one read, no lock). Calls in this process coalesce: a call while a seal runs waits for one
   * more seal after it, shared with every other call that comes meanwhile.
   */
  seal(): Promise<number> {
    if (this.#queued) return this.#queued;
    if (!this.#running) return this.#run();
    this.#queued = this.#running
      .catch(() => 0)
      .then(() => {
        this.#queued = null;
        return this.#run();
      });
    return this.#queued;
  }

  #run(): Promise<number> {
    const run = this.#drain().finally(() => {
      if (this.#running === run) this.#running = null;
    });
    this.#running = run;
    return run;
  }

  async #drain(): Promise<number> {
    if (!(await anyPending(this.db))) {
      if (this.#headInvalid) await this.#trustedHead(this.db).then(() => (this.#headInvalid = false));
      return 0;
    }
    let sealed = 0;
    for (;;) {
      const batch = await this.db.transaction((tx) => this.#sealBatch(tx));
      sealed += batch;
      if (batch < this.#batchSize) return sealed;
    }
  }

  /** One batch: takes pending entries under the lock, chains them after the trusted head, signs one head. */
  async #sealBatch(tx: Executor): Promise<number> {
    await lockAppends(tx);
    const taken = await takePending(tx, this.#batchSize);
    if (taken.length === 0) return 0;
    let previous: AuditHead;
    try {
      previous = await this.#trustedHead(tx);
    } catch (error) {
      if (error instanceof ApiError && error.code === "audit_head_invalid") this.#headInvalid = true;
      throw error;
    }
    this.#headInvalid = false;
    let { seq, hash } = previous;
    const entries: AuditRow[] = taken.map((pending) => {
      const fields = {
        seq: seq + 1,
        at: pending.at,
        actor: pending.actor,
        action: pending.action,
        target: pending.target,
        data: pending.data,
      };
      const prevHash = hash;
      seq = fields.seq;
      hash = entryHash(prevHash, fields);
      return { ...fields, prevHash, hash };
    });
    await insertEntries(tx, entries);
    const now = this.clock.now();
    const signed = await signHead(this.keys, {
      chain: AUDIT_CHAIN,
      size: seq,
      hash,
      timestamp: now.toISOString(),
    });
    await insertSignedHead(tx, {
      chain: AUDIT_CHAIN,
      size: seq,
      hash,
      signedAt: now,
      kid: signed.kid,
      jws: signed.jws,
    });
    this.#trusted = { jws: signed.jws, head: { seq, hash } };
    return taken.length;
  }

  /**
   * Seals before a read, so the read sees every committed append. A seal that cannot run (the head is invalid, the
   * vault sealed) does not stop the read: it shows what the database holds, and `verify` names what is wrong.
   */
  async #sealForRead(): Promise<void> {
    try {
      await this.seal();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== "audit_head_invalid" && code !== "vault_sealed" && code !== "vault_not_initialized") throw error;
    }
  }

  #pending(event: AuditEvent) {
    return {
      at: this.clock.now().toISOString(),
      actor: event.actor,
      action: event.action,
      target: event.target ?? null,
      data: event.data ?? {},
    };
  }

  /** The audit key as published; one key for the log's life, so it is asked of the provider once. */
  publicKey(): Promise<AuditPublicKey> {
    const asked = (this.#publicKey ??= this.keys.auditPublicKey());
    asked.catch(() => (this.#publicKey = undefined)); // sealed now, unsealed later
    return asked;
  }

  /** The head with the most entries, for the witness (after sealing what is pending). */
  async latestHead(): Promise<SignedHeadRow | null> {
    await this.#sealForRead();
    return latestSignedHead(this.db, AUDIT_CHAIN);
  }

  /**
   * Checks the stored log with the audit key (`mpay audit verify`), and against `witnessed` heads (compact JWS)
   * when given: a rewrite or truncation before a witnessed head fails even if it was re-signed with the key.
   * Entries still pending after the merge delay's bound are a problem too (`unsealed`).
   */
  async verify(witnessed: readonly string[] = []): Promise<AuditReport> {
    const key = await this.publicKey();
    await this.#sealForRead();
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
    const cutoff = new Date(this.clock.now().getTime() - this.#unsealedAfterMs).toISOString();
    const stuck = await pendingBefore(this.db, cutoff);
    if (stuck.count > 0)
      problems.push({
        seq: null,
        kind: "unsealed",
        message: `${stuck.count} appended ${stuck.count === 1 ? "entry is" : "entries are"} not in the chain after ${Math.round(this.#unsealedAfterMs / 1000)} s (the oldest from ${stuck.oldest}): the sealer is stuck, or someone keeps ${stuck.count === 1 ? "it" : "them"} out of the chain`,
      });
    return { ...report, ok: problems.length === 0, problems };
  }

  /**
   * Writes the whole log as export-file.ts describes, one line per call of `write`: every entry that is stored
   * (tampered or not: the export shows what the database holds) and the signed heads up to the last entry written.
   */
  async export(write: (line: string) => Promise<void> | void): Promise<{ entries: number; heads: number }> {
    await this.#sealForRead();
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
    // Heads after the entries, up to the last one written: a seal while this ran adds entries and their head in one
    // transaction, so a head without its entries here would only be a race, never a finding.
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
    if (latest && latest.jws === this.#trusted?.jws) return this.#trusted.head;
    if (latest) {
      const read = await readHead(latest.jws, [await this.publicKey()]);
      if (!read.ok || read.head.payload.chain !== AUDIT_CHAIN) throw headInvalid();
      const head = { seq: read.head.payload.size, hash: read.head.payload.hash };
      this.#trusted = { jws: latest.jws, head };
      return head;
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
