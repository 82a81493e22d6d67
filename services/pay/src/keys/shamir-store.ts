/**
 * SQL of the shamir vault: its custody row (M, N, check value) and its keyring (key versions sealed under the
 * master key). Nothing here is secret without the master key, which only unsealed processes hold in memory.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { eq, max } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { decodeCanonical } from "./encoding.ts";
import { KeyProviderError } from "./provider.ts";
import { vaultCustody, vaultKeyring } from "./schema.ts";
import { derive } from "./shamir-shares.ts";
import { NONCE_BYTES, TAG_BYTES } from "./sealed-format.ts";

const CUSTODY_ID = "main";

export interface Custody {
  threshold: number;
  shares: number;
  checkValue: string;
}

export async function readCustody(db: Executor): Promise<Custody | null> {
  const [row] = await db.select().from(vaultCustody).where(eq(vaultCustody.id, CUSTODY_ID));
  return row ? { threshold: row.threshold, shares: row.shares, checkValue: row.checkValue } : null;
}

/** False when a vault exists already (the one-row table's key makes two concurrent inits end with one winner). */
export async function insertCustody(tx: Executor, custody: Custody): Promise<boolean> {
  const inserted = await tx.insert(vaultCustody).values({ id: CUSTODY_ID, ...custody }).onConflictDoNothing().returning({ id: vaultCustody.id });
  return inserted.length === 1;
}

export async function keyringVersions(db: Executor): Promise<number[]> {
  const rows = await db.select({ version: vaultKeyring.version }).from(vaultKeyring).orderBy(vaultKeyring.version);
  return rows.map((r) => r.version);
}

export async function highestKeyringVersion(tx: Executor): Promise<number> {
  const [row] = await tx.select({ v: max(vaultKeyring.version) }).from(vaultKeyring);
  return row?.v ?? 0;
}

export async function insertKeyringKey(tx: Executor, master: Buffer, version: number, key: Buffer): Promise<void> {
  await tx.insert(vaultKeyring).values({ version, sealedKey: wrapKey(master, version, key) });
}

/**
 * Every key version, opened with the master key. A row that does not open means the master key is not the one
 * the keyring was made with, or the row was altered: either way the vault must not serve.
 */
export async function openKeyring(db: Executor, master: Buffer, skip: (version: number) => boolean = () => false): Promise<Map<number, Buffer>> {
  const rows = await db.select().from(vaultKeyring).orderBy(vaultKeyring.version);
  const keys = new Map<number, Buffer>();
  try {
    for (const row of rows) {
      if (skip(row.version)) continue;
      const key = unwrapKey(master, row.version, row.sealedKey);
      if (!key) throw new KeyProviderError("provider_misconfigured", `vault keyring version ${row.version} does not open under the unsealed master key: the row was altered`);
      keys.set(row.version, key);
    }
    return keys;
  } catch (error) {
    for (const key of keys.values()) key.fill(0);
    throw error;
  }
}

/** AES-256-GCM under a key derived from the master key; the AAD names the version, so rows cannot be swapped. */
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

function unwrapKey(master: Buffer, version: number, sealed: string): Buffer | null {
  const bytes = decodeCanonical(sealed, "base64url");
  if (!bytes || bytes.length !== NONCE_BYTES + 32 + TAG_BYTES) return null;
  const wrapping = derive(master, "mpay/vault|keyring");
  try {
    const decipher = createDecipheriv("aes-256-gcm", wrapping, bytes.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
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
