/**
 * SQL of the shamir vault: its custody row (M, N, check value, share set), its keyring (key versions sealed under
 * the master key of a share set's generation) and the share sets a rekey retired. Nothing here is secret without
 * the master key, which only unsealed processes hold in memory.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { eq, isNull, lt, max, ne, or } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";
import { decodeCanonical } from "../encoding.ts";
import { KeyProviderError } from "../provider.ts";
import { vaultCustody, vaultKeyring, vaultRetiredShareSets } from "../schema.ts";
import { derive } from "./shamir-shares.ts";
import { NONCE_BYTES, TAG_BYTES } from "../sealed-format.ts";

const CUSTODY_ID = "main";

export interface Custody {
  threshold: number;
  shares: number;
  checkValue: string;
  /** Which share set (and master key) is current: 1 at init, one more at each rekey. */
  generation: number;
  /** The current set's id, written into each of its shares; null for a set of `mpvs1_` shares. */
  shareSet: string | null;
  /** While a rekey's re-seal is unfinished: the version every row must reach. */
  rekeyVersion: number | null;
}

export async function readCustody(db: Executor): Promise<Custody | null> {
  const [row] = await db.select().from(vaultCustody).where(eq(vaultCustody.id, CUSTODY_ID));
  return row ? custodyOf(row) : null;
}

/**
 * The custody row, locked until the transaction ends: a rekey takes it FOR UPDATE, a process that registers its
 * unsealing takes it FOR SHARE, so the two never interleave (the rekey sees every registered process).
 */
export async function lockCustody(tx: Executor, mode: "update" | "share"): Promise<Custody | null> {
  const [row] = await tx.select().from(vaultCustody).where(eq(vaultCustody.id, CUSTODY_ID)).for(mode);
  return row ? custodyOf(row) : null;
}

/** False when a vault exists already (the one-row table's key makes two concurrent inits end with one winner). */
export async function insertCustody(tx: Executor, custody: Custody): Promise<boolean> {
  const inserted = await tx
    .insert(vaultCustody)
    .values({ id: CUSTODY_ID, ...custody })
    .onConflictDoNothing()
    .returning({ id: vaultCustody.id });
  return inserted.length === 1;
}

/** The new share set of a rekey replaces the current one (the caller holds the row's lock). */
export async function replaceCustody(tx: Executor, custody: Custody): Promise<void> {
  await tx.update(vaultCustody).set(custody).where(eq(vaultCustody.id, CUSTODY_ID));
}

export async function endRekey(tx: Executor): Promise<void> {
  await tx.update(vaultCustody).set({ rekeyVersion: null }).where(eq(vaultCustody.id, CUSTODY_ID));
}

export async function retireShareSet(tx: Executor, generation: number, shareSet: string | null): Promise<void> {
  await tx.insert(vaultRetiredShareSets).values({ generation, shareSet }).onConflictDoNothing();
}

/** True when a rekey replaced the share set `shareSet` (null: the `mpvs1_` set of a vault made before sets). */
export async function isRetiredShareSet(db: Executor, shareSet: string | null): Promise<boolean> {
  const rows = await db
    .select({ generation: vaultRetiredShareSets.generation })
    .from(vaultRetiredShareSets)
    .where(shareSet === null ? isNull(vaultRetiredShareSets.shareSet) : eq(vaultRetiredShareSets.shareSet, shareSet))
    .limit(1);
  return rows.length === 1;
}

/** Every key version the keyring holds, under any master key (for `vault status`). */
export async function keyringVersions(db: Executor): Promise<number[]> {
  const rows = await db
    .selectDistinct({ version: vaultKeyring.version })
    .from(vaultKeyring)
    .orderBy(vaultKeyring.version);
  return rows.map((r) => r.version);
}

export async function highestKeyringVersion(tx: Executor): Promise<number> {
  const [row] = await tx.select({ v: max(vaultKeyring.version) }).from(vaultKeyring);
  return row?.v ?? 0;
}

export async function insertKeyringKey(
  tx: Executor,
  master: Buffer,
  generation: number,
  version: number,
  key: Buffer,
): Promise<void> {
  await tx.insert(vaultKeyring).values({ generation, version, sealedKey: wrapKey(master, version, key) });
}

/** Deletes every keyring row sealed under another master key than `generation`'s. */
export async function deleteOtherGenerations(tx: Executor, generation: number): Promise<number> {
  return (
    await tx.delete(vaultKeyring).where(ne(vaultKeyring.generation, generation)).returning({ v: vaultKeyring.version })
  ).length;
}

/** Deletes the versions below `version`, and any row of another master key than `generation`'s. */
export async function deleteRetiredKeys(tx: Executor, generation: number, version: number): Promise<number> {
  const retired = or(ne(vaultKeyring.generation, generation), lt(vaultKeyring.version, version));
  return (await tx.delete(vaultKeyring).where(retired).returning({ v: vaultKeyring.version })).length;
}

/**
 * Every key version sealed under the master key of `generation`, opened with it. A row that does not open means
 * the master key is not the one the keyring was made with, or the row was altered: either way the vault must not
 * serve.
 */
export async function openKeyring(
  db: Executor,
  master: Buffer,
  generation: number,
  skip: (version: number) => boolean = () => false,
): Promise<Map<number, Buffer>> {
  const rows = await db
    .select()
    .from(vaultKeyring)
    .where(eq(vaultKeyring.generation, generation))
    .orderBy(vaultKeyring.version);
  const keys = new Map<number, Buffer>();
  try {
    for (const row of rows) {
      if (skip(row.version)) continue;
      const key = unwrapKeyringKey(master, row.version, row.sealedKey);
      if (!key)
        throw new KeyProviderError(
          "provider_misconfigured",
          `vault keyring version ${row.version} does not open under the unsealed master key: the row was altered`,
        );
      keys.set(row.version, key);
    }
    return keys;
  } catch (error) {
    for (const key of keys.values()) key.fill(0);
    throw error;
  }
}

function custodyOf(row: typeof vaultCustody.$inferSelect): Custody {
  return {
    threshold: row.threshold,
    shares: row.shares,
    checkValue: row.checkValue,
    generation: row.generation,
    shareSet: row.shareSet,
    rekeyVersion: row.rekeyVersion,
  };
}

/**
 * AES-256-GCM under a key derived from the master key; the AAD names the version, so rows cannot be swapped. The
 * generation need not be bound: each generation has its own master key, so a row moved to another one fails.
 */
function wrapKey(master: Buffer, version: number, key: Buffer): string {
  const wrapping = derive(master, "mpay/vault|keyring");
  try {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", wrapping, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(`mpay-vault-keyring|${version}`));
    return Buffer.concat([nonce, cipher.update(key), cipher.final(), cipher.getAuthTag()]).toString("base64url");
  } finally {
    wrapping.fill(0);
  }
}

/** One keyring row's key, or null when `master` is not the key it was sealed under (or the row was altered). */
export function unwrapKeyringKey(master: Buffer, version: number, sealed: string): Buffer | null {
  const bytes = decodeCanonical(sealed, "base64url");
  if (!bytes || bytes.length !== NONCE_BYTES + 32 + TAG_BYTES) return null;
  const wrapping = derive(master, "mpay/vault|keyring");
  try {
    const decipher = createDecipheriv("aes-256-gcm", wrapping, bytes.subarray(0, NONCE_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(`mpay-vault-keyring|${version}`));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const key = decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      key.fill(0);
      return null;
    }
    return key;
  } finally {
    wrapping.fill(0);
  }
}
