/**
 * The hash chain of the append-only audit log (DESIGN.md "Payments", audit bullet): each entry's hash covers
 * the previous entry's hash, so editing, removing or reordering an entry breaks every link after it. The newest
 * entry's seq and hash (the head) are signed by the key provider elsewhere; checking the data against that head is
 * what catches deleted newest entries, forged appends, and a chain rewritten by someone without the key.
 * Older heads (signed ones, and those a witness outside the database kept) are checkpoints: the entry at each
 * one's size must still have its hash. That is what catches a key holder who rewrote or truncated the log before
 * a witnessed head, since a hash chain's prefix is fixed by any later hash (Certificate Transparency's consistency,
 * for a chain instead of a tree). Pure functions only: the store reads rows, the CLI prints problems.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "@mpay/protocol";

/** Deterministic JSON moved to the protocol (the audit chain and the Idempotency-Key fingerprint share it); re-exported for the chain's callers. */
export { canonicalJson };

export type AuditEntryFields = {
  seq: number;
  at: string /* ISO */;
  actor: string;
  action: string;
  target: string | null;
  data: Record<string, unknown>;
};
export type StoredAuditEntry = AuditEntryFields & { prevHash: string; hash: string };
export type AuditHead = { seq: number; hash: string };
/** An earlier head the entries must agree with: signed by the key provider, or kept by the witness. */
export type Checkpoint = AuditHead & { source: "signed" | "witnessed" };
export type ChainProblemKind =
  | "edited"
  | "deleted"
  | "reordered"
  | "gap"
  | "head_mismatch"
  | "truncated"
  | "witnessed_head_missing"
  | "witnessed_head_mismatch";
export type ChainProblem = { seq: number | null; kind: ChainProblemKind; message: string };
export type ChainVerdict = { ok: true; count: number } | { ok: false; problems: ChainProblem[] };

/** The prevHash of entry 1: there is nothing before it. */
export const GENESIS_HASH = "0".repeat(64);

/** Hex SHA-256 of `prevHash + "\n" + canonicalJson(fields)`. Only the six fields are hashed, whatever else `e` carries. */
export function entryHash(prevHash: string, e: AuditEntryFields): string {
  const fields: AuditEntryFields = {
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    target: e.target,
    data: e.data,
  };
  return createHash("sha256")
    .update(`${prevHash}\n${canonicalJson(fields)}`, "utf8")
    .digest("hex");
}

/**
 * Checks entries in storage order against each other, against the newest signed head and against the checkpoints
 * (whose signatures the caller has already checked). `head` null means no head was ever signed, which is only right
 * for an empty log.
 */
export function verifyChain(
  entries: readonly StoredAuditEntry[],
  head: AuditHead | null,
  checkpoints: readonly Checkpoint[] = [],
): ChainVerdict {
  const verifier = new ChainVerifier(head, checkpoints);
  for (const entry of entries) verifier.add(entry);
  return verifier.finish();
}

/** verifyChain one entry at a time, for logs too large to hold in memory (read them in pages, in seq order). */
export class ChainVerifier {
  readonly #head: AuditHead | null;
  readonly #checkpoints: readonly Checkpoint[];
  readonly #checkpointSeqs: ReadonlySet<number>;
  /** The stored hash of each entry a checkpoint names, once seen (the first entry with that seq). */
  readonly #hashesAt = new Map<number, string>();
  readonly #problems: ChainProblem[] = [];
  #prev: AuditHead = { seq: 0, hash: GENESIS_HASH };
  #count = 0;
  #maxSeq = 0;
  /** The stored hash of the entry the head names, once seen. */
  #hashAtHead: string | undefined;

  constructor(head: AuditHead | null, checkpoints: readonly Checkpoint[] = []) {
    this.#head = head;
    // The newest head is checked on its own (#checkHead); as a checkpoint too it would be reported twice.
    this.#checkpoints = checkpoints
      .filter((c) => c.source === "witnessed" || c.seq !== head?.seq || c.hash !== head.hash)
      .sort((a, b) => a.seq - b.seq);
    this.#checkpointSeqs = new Set(this.#checkpoints.map((c) => c.seq));
    for (const c of this.#checkpoints) if (c.seq === 0) this.#hashesAt.set(0, GENESIS_HASH);
  }

  add(entry: StoredAuditEntry): void {
    const { seq } = entry;
    if (hashOf(entry) !== entry.hash) {
      this.#report(seq, "edited", `entry ${seq} no longer matches its hash: it was changed after it was written`);
    }
    const prev = this.#prev;
    const linked = entry.prevHash === prev.hash;
    if (!(seq > prev.seq)) {
      this.#report(seq, "reordered", `entry ${seq} is stored after entry ${prev.seq}: seq must increase`);
    } else if (seq !== prev.seq + 1) {
      if (linked)
        this.#report(seq, "gap", `seq jumps from ${prev.seq} to ${seq} although the hashes link: numbers were skipped`);
      else this.#report(seq, "deleted", `entries ${prev.seq + 1} to ${seq - 1} are missing`);
    } else if (!linked) {
      this.#report(
        seq,
        "deleted",
        `entry ${seq} does not link to entry ${prev.seq}: an entry was removed and the rest renumbered, or the chain was rewritten`,
      );
    }
    this.#prev = { seq, hash: entry.hash };
    this.#count += 1;
    this.#maxSeq = Math.max(this.#maxSeq, seq);
    if (seq === this.#head?.seq && this.#hashAtHead === undefined) this.#hashAtHead = entry.hash;
    if (!this.#hashesAt.has(seq) && this.#checkpointSeqs.has(seq)) this.#hashesAt.set(seq, entry.hash);
  }

  finish(): ChainVerdict {
    this.#checkHead(this.#head);
    this.#checkCheckpoints("signed");
    this.#checkCheckpoints("witnessed");
    return this.#problems.length === 0
      ? { ok: true, count: this.#count }
      : { ok: false, problems: [...this.#problems] };
  }

  #checkHead(head: AuditHead | null): void {
    if (head === null) {
      if (this.#count > 0) this.#report(null, "head_mismatch", `the log has ${this.#count} entries but no signed head`);
      return;
    }
    if (this.#maxSeq < head.seq) {
      const from = this.#maxSeq + 1;
      this.#report(
        head.seq,
        "truncated",
        `entries ${from} to ${head.seq} are missing: the signed head names entry ${head.seq}`,
      );
      return;
    }
    const atHead = this.#hashAtHead;
    if (atHead === undefined) {
      this.#report(head.seq, "head_mismatch", `entry ${head.seq}, named by the signed head, is missing`);
    } else if (atHead !== head.hash) {
      this.#report(
        head.seq,
        "head_mismatch",
        `entry ${head.seq} differs from the signed head: the chain was rewritten`,
      );
    }
    if (this.#maxSeq > head.seq) {
      // Only the key provider can sign a head, so entries past it were added by someone who could not.
      this.#report(
        this.#maxSeq,
        "head_mismatch",
        `entries ${head.seq + 1} to ${this.#maxSeq} come after the signed head`,
      );
    }
  }

  /**
   * One problem per kind, at the first checkpoint that fails, counting the rest: a truncation before 500 witnessed
   * heads is one finding, not 500 lines.
   */
  #checkCheckpoints(source: Checkpoint["source"]): void {
    const missing: Checkpoint[] = [];
    const differing: Checkpoint[] = [];
    for (const c of this.#checkpoints) {
      if (c.source !== source) continue;
      if (c.seq > this.#maxSeq) missing.push(c);
      else if (this.#hashesAt.get(c.seq) !== c.hash) differing.push(c);
    }
    const name = source === "witnessed" ? "witnessed head" : "signed head";
    const more = (n: number) => (n > 1 ? ` (and ${n - 1} more ${name}s)` : "");
    const [firstMissing] = missing;
    // A signed head past the end is part of the truncation #checkHead reported already.
    const reported = source === "signed" && this.#head !== null && this.#maxSeq < this.#head.seq;
    if (firstMissing && !reported) {
      const kind = source === "witnessed" ? "witnessed_head_missing" : "truncated";
      this.#report(
        firstMissing.seq,
        kind,
        `the log ends at entry ${this.#maxSeq} but a ${name} names entry ${firstMissing.seq}${more(missing.length)}: entries were removed from its end`,
      );
    }
    const [firstDiffering] = differing;
    if (firstDiffering) {
      const kind = source === "witnessed" ? "witnessed_head_mismatch" : "head_mismatch";
      const what = this.#hashesAt.has(firstDiffering.seq)
        ? `entry ${firstDiffering.seq} differs from the ${name} at that size`
        : `entry ${firstDiffering.seq}, named by a ${name}, is missing`;
      this.#report(firstDiffering.seq, kind, `${what}${more(differing.length)}: the log was rewritten up to there`);
    }
  }

  #report(seq: number | null, kind: ChainProblemKind, message: string): void {
    this.#problems.push({ seq, kind, message });
  }
}

/** A row whose data cannot be canonicalised (not plain JSON) cannot match any hash we wrote: it was edited. */
function hashOf(entry: StoredAuditEntry): string | null {
  try {
    return entryHash(entry.prevHash, entry);
  } catch {
    return null;
  }
}
