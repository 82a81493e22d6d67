/**
 * The shamir processes that hold the master key right now, so that `mpay vault rekey` can move every one of them
 * to the new master key while they keep serving (DESIGN.md "Key providers": re-split without downtime).
 *
 * Each unsealed process makes an X25519 key pair whose private half never leaves its memory, and registers the
 * public half with the generation of the master key it holds (vault_processes), refreshing `seen_at` every
 * HEARTBEAT_MS. A rekey delivers the new master key to every live process of the old generation: AES-256-GCM
 * under a key from HKDF over the X25519 agreement with that process's public key, salted with a key derived from
 * the OLD master key. So:
 * - a copy of the database, even together with M old shares, cannot open a delivery (it needs the process's
 *   private key, which exists in that process's memory only);
 * - a writer to the database cannot hand a process a master key of its own choosing (it would need the master key
 *   that process already holds);
 * - a process picks its delivery up when it sees the new key version (shamir-provider.ts), checks it against the
 *   new check value, and clears it; the rekey's final step deletes any left.
 */
import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from "node:crypto";
import { freshX25519 } from "@mpay/crypto/fresh-key-pair";
import { and, eq, lt, ne, sql } from "drizzle-orm";
import type { Db, Executor } from "../../db/client.ts";
import { decodeCanonical } from "../encoding.ts";
import { KeyProviderError } from "../provider.ts";
import { vaultProcesses } from "../schema.ts";
import { checkValueMatches, derive, MASTER_KEY_BYTES } from "./shamir-shares.ts";
import { lockCustody, type Custody } from "./shamir-store.ts";
import { NONCE_BYTES, TAG_BYTES } from "../sealed-format.ts";

export const HEARTBEAT_MS = 5000;
/** A process not seen for this long is taken as gone: it gets no delivery and does not hold a rekey up. */
export const LIVE_MS = 4 * HEARTBEAT_MS;
const PUBLIC_KEY_BYTES = 32;

const liveSince = () => sql`now() - make_interval(secs => ${LIVE_MS / 1000})`;

export class UnsealedProcess {
  #generation: number;
  #timer: NodeJS.Timeout | null = null;

  private constructor(
    private readonly db: Db,
    readonly id: string,
    private readonly privateKey: KeyObject,
    generation: number,
  ) {
    this.#generation = generation;
  }

  /**
   * Registers this process as holding the master key of `generation` and starts its heartbeat. Refused with
   * vault_share_retired when a rekey replaced that generation meanwhile (the custody row's lock orders the two).
   */
  static async register(db: Db, generation: number): Promise<UnsealedProcess> {
    // Not generateKeyPairSync: its key-generation job, left to the GC, can deadlock a later JWK export of this key
    // (the heartbeat's, every HEARTBEAT_MS, for as long as the process lives) on Node 20; see fresh-key-pair.ts.
    const { privateKey, x } = freshX25519();
    const process = new UnsealedProcess(db, `vp_${randomBytes(12).toString("base64url")}`, privateKey, generation);
    await db.transaction(async (tx) => {
      const custody = await lockCustody(tx, "share");
      if (custody?.generation !== generation) throw retiredWhileUnsealing();
      await tx.insert(vaultProcesses).values({ id: process.id, publicKey: x, generation });
    });
    process.#timer = setInterval(() => void process.heartbeat().catch(() => undefined), HEARTBEAT_MS);
    process.#timer.unref(); // a CLI process must not stay alive for it
    return process;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Says this process is alive (and re-registers it if its row went, say after a long pause). */
  async heartbeat(): Promise<void> {
    await this.db
      .insert(vaultProcesses)
      .values({ id: this.id, publicKey: rawPublicKey(createPublicKey(this.privateKey)), generation: this.#generation })
      .onConflictDoUpdate({ target: vaultProcesses.id, set: { seenAt: sql`now()` } });
  }

  /**
   * The master key of `custody`'s share set that a rekey delivered to this process, opened with its private key
   * and the master key it holds now, and checked against the set's check value; null when none was delivered, or
   * it does not open or check (then it was not a rekey's). The caller owns (and wipes) the returned buffer.
   */
  async takeDelivery(
    currentMaster: Buffer,
    custody: Pick<Custody, "generation" | "checkValue">,
  ): Promise<Buffer | null> {
    const [row] = await this.db.select().from(vaultProcesses).where(eq(vaultProcesses.id, this.id));
    if (!row?.deliveredMaster || row.deliveredGeneration !== custody.generation) return null;
    const master = openDelivery(row.deliveredMaster, this.privateKey, currentMaster, this.id, custody.generation);
    if (master && checkValueMatches(master, custody.checkValue)) return master;
    master?.fill(0);
    return null;
  }

  /** Records that this process now holds the master key of `generation`, and drops its delivery. */
  async moved(generation: number): Promise<void> {
    this.#generation = generation;
    await this.db
      .update(vaultProcesses)
      .set({ generation, deliveredMaster: null, deliveredGeneration: null, seenAt: sql`now()` })
      .where(eq(vaultProcesses.id, this.id));
  }

  /** Stops the heartbeat and removes the registration (a process that seals itself or closes). */
  async leave(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.db
      .delete(vaultProcesses)
      .where(eq(vaultProcesses.id, this.id))
      .catch(() => undefined);
  }
}

/**
 * Inside the rekey's transaction: gives the new master key to every live process of `fromGeneration` but `self`,
 * and forgets processes not seen for LIVE_MS. Returns how many processes it was delivered to.
 */
export async function deliverMaster(
  tx: Executor,
  input: { fromGeneration: number; toGeneration: number; oldMaster: Buffer; newMaster: Buffer; self: string | null },
): Promise<number> {
  await tx.delete(vaultProcesses).where(lt(vaultProcesses.seenAt, liveSince()));
  const live = await tx
    .select({ id: vaultProcesses.id, publicKey: vaultProcesses.publicKey })
    .from(vaultProcesses)
    .where(
      and(
        eq(vaultProcesses.generation, input.fromGeneration),
        input.self ? ne(vaultProcesses.id, input.self) : undefined,
      ),
    );
  for (const process of live) {
    const sealed = sealDelivery(input.newMaster, process.publicKey, input.oldMaster, process.id, input.toGeneration);
    await tx
      .update(vaultProcesses)
      .set({ deliveredMaster: sealed, deliveredGeneration: input.toGeneration })
      .where(eq(vaultProcesses.id, process.id));
  }
  return live.length;
}

/** Live processes that still hold a master key older than `generation`'s (a rekey waits for them before its end). */
export async function processesBelow(db: Executor, generation: number): Promise<number> {
  const rows = await db
    .select({ id: vaultProcesses.id })
    .from(vaultProcesses)
    .where(and(lt(vaultProcesses.generation, generation), sql`${vaultProcesses.seenAt} >= ${liveSince()}`));
  return rows.length;
}

/** Drops whatever deliveries are left (a process that never picked its up is gone or has moved anyway). */
export async function clearDeliveries(tx: Executor): Promise<void> {
  await tx.update(vaultProcesses).set({ deliveredMaster: null, deliveredGeneration: null });
}

function sealDelivery(
  newMaster: Buffer,
  recipient: string,
  oldMaster: Buffer,
  processId: string,
  generation: number,
): string {
  const publicKey = importPublicKey(recipient);
  const ephemeral = freshX25519();
  const key = deliveryKey(
    diffieHellman({ privateKey: ephemeral.privateKey, publicKey }),
    oldMaster,
    processId,
    generation,
  );
  try {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(deliveryInfo(processId, generation));
    const ephemeralPublic = Buffer.from(ephemeral.x, "base64url");
    return Buffer.concat([
      ephemeralPublic,
      nonce,
      cipher.update(newMaster),
      cipher.final(),
      cipher.getAuthTag(),
    ]).toString("base64url");
  } finally {
    key.fill(0);
  }
}

function openDelivery(
  sealed: string,
  privateKey: KeyObject,
  currentMaster: Buffer,
  processId: string,
  generation: number,
): Buffer | null {
  const bytes = decodeCanonical(sealed, "base64url");
  if (!bytes || bytes.length !== PUBLIC_KEY_BYTES + NONCE_BYTES + MASTER_KEY_BYTES + TAG_BYTES) return null;
  const publicKey = importPublicKey(bytes.subarray(0, PUBLIC_KEY_BYTES).toString("base64url"));
  const key = deliveryKey(diffieHellman({ privateKey, publicKey }), currentMaster, processId, generation);
  try {
    const body = bytes.subarray(PUBLIC_KEY_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", key, body.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(deliveryInfo(processId, generation));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    const master = decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      master.fill(0);
      return null;
    }
    return master;
  } finally {
    key.fill(0);
  }
}

/** HKDF-SHA256 over the X25519 agreement, salted with a key of the old master key; the caller wipes it. */
function deliveryKey(shared: Buffer, oldMaster: Buffer, processId: string, generation: number): Buffer {
  const salt = derive(oldMaster, "mpay/vault|master-delivery");
  try {
    return Buffer.from(hkdfSync("sha256", shared, salt, deliveryInfo(processId, generation), 32));
  } finally {
    salt.fill(0);
    shared.fill(0);
  }
}

function deliveryInfo(processId: string, generation: number): Buffer {
  return Buffer.from(`mpay/vault|master-delivery|${processId}|${generation}`);
}

function rawPublicKey(key: KeyObject): string {
  const { x } = key.export({ format: "jwk" });
  if (typeof x !== "string") throw new Error("an X25519 public key has an x");
  return x;
}

function importPublicKey(x: string): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "X25519", x }, format: "jwk" });
}

function retiredWhileUnsealing(): KeyProviderError {
  return new KeyProviderError(
    "vault_share_retired",
    "the vault was re-keyed while these shares were being combined: they belong to the replaced share set. Unseal with the new shares",
  );
}
