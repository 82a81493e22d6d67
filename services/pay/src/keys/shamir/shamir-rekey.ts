/**
 * `mpay vault rekey` inside the shamir vault: a custodian leaves, so the master key is replaced and split anew.
 *
 * Re-splitting the same master key with a new polynomial would not do: the old shares would still rebuild it, and
 * with a copy of the database open everything. So a rekey, authorised by M current shares (they unsealed the
 * process that runs it), makes in one transaction:
 * 1. a new master key and its share set (new set id, new check value, M and N as asked): from the commit on,
 *    only the new shares unseal, and a share of the replaced set is refused on its own (`vault_share_retired`);
 * 2. a new key version under the new master key only, which becomes current: every row is re-sealed under it;
 * 3. the keyring re-sealed under the new master key (the older versions too, so that rows not yet re-sealed still
 *    open), and every keyring row of the old master key deleted;
 * 4. the new master key delivered to every live process of the old one (shamir-processes.ts), so they keep
 *    serving and follow.
 * Then the re-seal runs online (reseal.ts) and `endRekeyIn` deletes the versions below the new one. From then on
 * nothing stored opens under the old master key, nor under any key it ever protected: M old shares, even all
 * together, open nothing in the database (only in a backup taken before the rekey). Right after step 1–4's
 * commit already, no keyring row of the old master key is left.
 */
import { randomBytes } from "node:crypto";
import { Secret } from "@mpay/protocol";
import type { Executor } from "../../db/client.ts";
import { KeyProviderError } from "../provider.ts";
import { clearDeliveries, deliverMaster, processesBelow } from "./shamir-processes.ts";
import {
  assertParameters,
  checkValue,
  MASTER_KEY_BYTES,
  newMasterKey,
  newShareSet,
  splitMasterKey,
} from "./shamir-shares.ts";
import {
  deleteOtherGenerations,
  deleteRetiredKeys,
  endRekey,
  highestKeyringVersion,
  insertKeyringKey,
  lockCustody,
  openKeyring,
  replaceCustody,
  retireShareSet,
  type Custody,
} from "./shamir-store.ts";

/** What `beginRekey` made; the caller owns `master` and `key` (it keeps them, or wipes them on failure). */
export interface RekeyMade {
  master: Buffer;
  /** The new key version's key. */
  key: Buffer;
  version: number;
  custody: Custody;
  shares: Secret<string[]>;
  /** Processes the new master key was delivered to (the one running the rekey not counted). */
  delivered: number;
}

export interface RekeyFrom {
  /** The master key this process holds, and its generation: it must be the current one. */
  master: Buffer;
  generation: number;
  /** The highest version recorded in key_versions (locked by the caller), or null. */
  recorded: number | null;
  /** This process's registration, which needs no delivery. */
  self: string | null;
}

/** Steps 1–4 above, in the caller's transaction (which holds the key_versions row's lock). */
export async function beginRekey(
  tx: Executor,
  from: RekeyFrom,
  next: { shares: number; threshold: number },
): Promise<RekeyMade> {
  const custody = await lockCustody(tx, "update");
  if (!custody)
    throw new KeyProviderError("vault_not_initialized", "the shamir vault is not initialized; run `mpay vault init`");
  if (custody.generation !== from.generation) throw heldMasterRetired();
  if (custody.rekeyVersion !== null) throw rekeyInProgress(custody.rekeyVersion);
  assertParameters(next.shares, next.threshold);

  const generation = custody.generation + 1;
  const master = newMasterKey();
  const key = randomBytes(MASTER_KEY_BYTES);
  // Read inside the transaction, not from memory: a version another process made a moment ago must not be lost.
  const keyring = await openKeyring(tx, from.master, from.generation);
  try {
    const shareSet = newShareSet();
    const texts = await splitMasterKey(master, next.shares, next.threshold, shareSet);
    const version = Math.max(from.recorded ?? 0, await highestKeyringVersion(tx)) + 1;
    for (const [v, k] of keyring) await insertKeyringKey(tx, master, generation, v, k);
    await insertKeyringKey(tx, master, generation, version, key);
    await deleteOtherGenerations(tx, generation);
    const replaced: Custody = {
      threshold: next.threshold,
      shares: next.shares,
      checkValue: checkValue(master),
      generation,
      shareSet,
      rekeyVersion: version,
    };
    await replaceCustody(tx, replaced);
    await retireShareSet(tx, custody.generation, custody.shareSet);
    const delivered = await deliverMaster(tx, {
      fromGeneration: custody.generation,
      toGeneration: generation,
      oldMaster: from.master,
      newMaster: master,
      self: from.self,
    });
    return { master, key, version, custody: replaced, shares: new Secret(texts), delivered };
  } catch (error) {
    master.fill(0);
    key.fill(0);
    throw error;
  } finally {
    for (const k of keyring.values()) k.fill(0);
  }
}

export type RekeyEnd =
  | { ended: false; processesBehind: number }
  | { ended: true; keyVersion: number; deletedKeys: number };

/**
 * The last step, once no row is sealed below the rekey's version (the caller checked): deletes the key versions
 * below it, and what is left of deliveries. Not while a live process still holds the old master key (it would
 * seal with a version about to go): then it reports how many, and the caller waits for them to follow or go.
 */
export async function endRekeyIn(tx: Executor, generation: number): Promise<RekeyEnd | null> {
  const custody = await lockCustody(tx, "update");
  if (custody?.rekeyVersion == null) return null;
  if (custody.generation !== generation) throw heldMasterRetired();
  const behind = await processesBelow(tx, custody.generation);
  if (behind > 0) return { ended: false, processesBehind: behind };
  const deletedKeys = await deleteRetiredKeys(tx, custody.generation, custody.rekeyVersion);
  await clearDeliveries(tx);
  await endRekey(tx);
  return { ended: true, keyVersion: custody.rekeyVersion, deletedKeys };
}

/** For `rotate`: no new version while a rekey is unfinished, nor from a process whose master key was replaced. */
export async function assertRotationAllowed(tx: Executor, generation: number | null): Promise<void> {
  const custody = await lockCustody(tx, "share");
  if (custody && custody.generation !== generation) throw heldMasterRetired();
  if (custody?.rekeyVersion != null) throw rekeyInProgress(custody.rekeyVersion);
}

export function rekeyInProgress(version: number): KeyProviderError {
  return new KeyProviderError(
    "vault_rekey_in_progress",
    `a rekey is not finished: rows are still being re-sealed to key version ${version}. Finish it with \`mpay vault reseal --unseal\` (new shares) before rotating or re-keying again`,
  );
}

function heldMasterRetired(): KeyProviderError {
  return new KeyProviderError(
    "vault_share_retired",
    "this process holds the master key of a share set that a rekey replaced; unseal it with the new shares",
  );
}
