/**
 * Sends the newest signed audit head to the witness, as a maintenance task in every pay-server process: batched,
 * since only the newest head goes (the chain fixes every earlier one), and idempotent, since the witness accepts the
 * head it holds again and changes nothing. A refusal (`audit_head_shrunk`, `audit_head_forked`,
 * `audit_key_changed`) is thrown, so the maintenance log shows it every interval until someone looks: it means the
 * stored log no longer extends what the witness saw. On PostgreSQL one process at a time takes its turn (store.ts
 * `inWitnessTurn`): a head read earlier is never sent after a newer one by another process.
 */
import type { KeyProvider } from "../keys/provider.ts";
import type { AuditService } from "./service.ts";
import type { WitnessClient } from "./witness.ts";

/** Runs one publication alone among the pay-server processes, or gives null when another is publishing now. */
export type WitnessTurn = <T>(work: () => Promise<T>) => Promise<T | null>;

export class WitnessPublisher {
  /** The head the witness last confirmed to this process (none after a start: the newest is sent once more). */
  #sent: { size: number; jws: string } | null = null;

  constructor(
    private readonly audit: AuditService,
    private readonly keys: KeyProvider,
    readonly witness: Pick<WitnessClient, "url" | "submit">,
    private readonly turn: WitnessTurn = (work) => work(),
  ) {}

  /** Returns 1 when the witness took a head it did not hold, else 0. */
  async publishOnce(): Promise<number> {
    if (this.keys.isSealed()) return 0; // a sealed shamir process cannot name its key yet; an unsealed one sends
    return (await this.turn(() => this.#publish())) ?? 0; // another process publishing now sends the newest
  }

  async #publish(): Promise<number> {
    const latest = await this.audit.latestHead();
    if (!latest || (latest.size === this.#sent?.size && latest.jws === this.#sent.jws)) return 0;
    // Anything else goes, an older or another head too: the witness, not this process, judges whether it extends
    // what it holds, and a truncated or rewritten log is refused there and reported here.
    const receipt = await this.witness.submit(latest.jws, await this.audit.publicKey());
    this.#sent = { size: latest.size, jws: latest.jws };
    return receipt.newHead ? 1 : 0;
  }
}
