/**
 * The issuer as a witness of the pay server's audit log (issue 7, hole 5; Certificate Transparency's witnesses as
 * the model). The pay server sends its newest signed head over the acquirer link; this issuer checks the signature
 * under the key it pinned with the first head, and that the head extends what it holds: the size never shrinks, and
 * the same size always has the same hash. It keeps every head it accepted, in its own database, and serves them to
 * anyone (`mpay audit verify --witness`), so a pay-server insider who rewrites or truncates the log before a
 * witnessed head, even one who can sign heads, is caught.
 *
 * Why the issuer: it is another institution with its own database and its own reasons to hold the pay server to
 * its record (disputes), and the pay server already reaches it with a credential. It sees heads only (sizes,
 * hashes, times), never an audit entry: heads of different sizes are checked against each other by the verifier,
 * who has the entries, not here.
 *
 * The key is pinned on first use (trust on first use): whoever first submits with the acquirer secret chooses it.
 * A head under any other key is refused, since one log keeps one key for its whole life.
 */
import { AuditHeadError, verifyAuditHead } from "@mpay/crypto";
import type { AuditPublicJwk, WitnessedHeads, WitnessReceipt } from "@mpay/protocol";
import { calculateJwkThumbprint } from "jose";
import { IssuerApiError } from "../http/errors.ts";
import type { IssuerCore } from "../issuer-core.ts";
import { headsOf, insertHead, newestHead, pinAndLockKey, pinnedKey } from "./store.ts";

/** The pay server keeps one chain; the witness would keep others apart by this name. */
const CHAIN = "main";

export class WitnessService {
  constructor(private readonly issuer: IssuerCore) {}

  /** Takes a signed head. Idempotent: the newest head sent again is accepted again and changes nothing. */
  async accept(head: string, key: AuditPublicJwk): Promise<WitnessReceipt> {
    const { kty, crv, x, y } = key;
    if ((await calculateJwkThumbprint({ kty, crv, x, y }, "sha256")) !== key.kid)
      throw new IssuerApiError("audit_head_invalid", "The key's kid is not its RFC 7638 thumbprint.");
    const { payload } = await verified(head, key);
    if (payload.chain !== CHAIN)
      throw new IssuerApiError("audit_head_invalid", "This witness keeps the pay server's main audit chain only.");
    const now = this.issuer.now();
    return this.issuer.db.transaction(async (tx) => {
      const pinned = await pinAndLockKey(tx, CHAIN, { kty, crv, x, y, kid: key.kid }, now);
      if (pinned.kid !== key.kid)
        throw this.#refuse(
          "audit_key_changed",
          `The audit head is signed by key ${key.kid}, not by the pay server's audit key ${pinned.kid} that this witness pinned.`,
          payload.size,
        );
      const newest = await newestHead(tx, CHAIN);
      if (newest && payload.size < newest.size) {
        throw this.#refuse(
          "audit_head_shrunk",
          `This witness holds a head of ${newest.size} entries; a head of ${payload.size} would mean the log lost entries.`,
          payload.size,
        );
      }
      if (newest && payload.size === newest.size) {
        if (payload.hash !== newest.hash)
          throw this.#refuse(
            "audit_head_forked",
            `This witness holds another head of ${newest.size} entries: the log was rewritten.`,
            payload.size,
          );
        return { accepted: true, size: newest.size, newHead: false };
      }
      await insertHead(tx, {
        chain: CHAIN,
        size: payload.size,
        hash: payload.hash,
        kid: key.kid,
        jws: head,
        receivedAt: now,
      });
      return { accepted: true, size: payload.size, newHead: true };
    });
  }

  /** Every head accepted, by size, and the pinned key: public, so that anyone can check an audit export with them. */
  async heads(): Promise<WitnessedHeads> {
    const [key, rows] = await Promise.all([pinnedKey(this.issuer.db, CHAIN), headsOf(this.issuer.db, CHAIN)]);
    return { key, heads: rows.map((row) => ({ head: row.jws, receivedAt: row.receivedAt.toISOString() })) };
  }

  /** A refused head is a finding about the pay server: logged (sizes only; a head holds no secret, but no need). */
  #refuse(
    code: "audit_key_changed" | "audit_head_shrunk" | "audit_head_forked",
    message: string,
    size: number,
  ): IssuerApiError {
    this.issuer.log.warn({ event: "audit_head_refused", code, size }, "audit head refused");
    return new IssuerApiError(code, message);
  }
}

async function verified(head: string, key: AuditPublicJwk) {
  try {
    return await verifyAuditHead(head, [key]);
  } catch (error) {
    if (error instanceof AuditHeadError)
      throw new IssuerApiError("audit_head_invalid", "The audit head does not verify under the key sent with it.");
    throw error;
  }
}
