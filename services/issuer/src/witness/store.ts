/** SQL of the witness: the pinned audit key and the heads accepted. */
import { and, asc, desc, eq } from "drizzle-orm";
import type { AuditPublicJwk } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import { witnessAuditKeys, witnessedAuditHeads } from "./schema.ts";

export type WitnessedHeadRow = typeof witnessedAuditHeads.$inferSelect;

/**
 * Pins `jwk` for the chain unless a key is pinned already, then locks and returns the pinned one: submissions for
 * one chain run one at a time from here to the end of the transaction.
 */
export async function pinAndLockKey(
  tx: Executor,
  chain: string,
  jwk: AuditPublicJwk,
  now: Date,
): Promise<AuditPublicJwk> {
  await tx.insert(witnessAuditKeys).values({ chain, kid: jwk.kid, jwk, pinnedAt: now }).onConflictDoNothing();
  const [row] = await tx.select().from(witnessAuditKeys).where(eq(witnessAuditKeys.chain, chain)).for("update");
  if (!row) throw new Error("pinned audit key vanished");
  return row.jwk;
}

export async function pinnedKey(db: Executor, chain: string): Promise<AuditPublicJwk | null> {
  const [row] = await db.select().from(witnessAuditKeys).where(eq(witnessAuditKeys.chain, chain));
  return row?.jwk ?? null;
}

export async function newestHead(db: Executor, chain: string): Promise<WitnessedHeadRow | null> {
  const [row] = await db
    .select()
    .from(witnessedAuditHeads)
    .where(eq(witnessedAuditHeads.chain, chain))
    .orderBy(desc(witnessedAuditHeads.size))
    .limit(1);
  return row ?? null;
}

export async function insertHead(tx: Executor, row: WitnessedHeadRow): Promise<void> {
  await tx.insert(witnessedAuditHeads).values(row);
}

export async function headsOf(db: Executor, chain: string): Promise<WitnessedHeadRow[]> {
  return db
    .select()
    .from(witnessedAuditHeads)
    .where(and(eq(witnessedAuditHeads.chain, chain)))
    .orderBy(asc(witnessedAuditHeads.size));
}
