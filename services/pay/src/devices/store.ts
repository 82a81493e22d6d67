import { and, eq, inArray, isNotNull, lte, ne, sql } from "drizzle-orm";
import { preparedPer } from "@mpay/service-kit";
import type { Executor } from "../db/client.ts";
import { devices, statementNonces } from "./schema.ts";

export type DeviceRow = typeof devices.$inferSelect;

/**
 * What a device is at `now`, with no job having to run first: a pending device whose waiting period has ended is
 * active; a device whose revocation a recovery scheduled is revoked from that moment (the maintenance task then
 * makes it so in the table, with the unbinds at the issuers).
 */
export function effectiveStatus(d: DeviceRow, now: Date): DeviceRow["status"] {
  if ((d.status === "active" || d.status === "pending") && d.revokeAt !== null && d.revokeAt <= now) return "revoked";
  return d.status === "pending" && d.activatesAt <= now ? "active" : d.status;
}

export async function devicesOf(db: Executor, payerId: string): Promise<DeviceRow[]> {
  return db.select().from(devices).where(eq(devices.payerId, payerId)).orderBy(devices.createdAt);
}

/**
 * Serialises every device decision of one payer for the rest of the transaction and returns their devices. A
 * transaction-level advisory lock on the payer, not row locks: before the first device there is no row to lock,
 * and concurrent first binds must not all find "no device yet".
 */
export async function lockDevicesOf(tx: Executor, payerId: string): Promise<DeviceRow[]> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`devices|${payerId}`}))`);
  return tx.select().from(devices).where(eq(devices.payerId, payerId)).orderBy(devices.createdAt);
}

/** Cancels the bindings still waiting that `approverId` approved: a revoked device's word no longer counts. */
export async function cancelApprovedBy(
  tx: Executor,
  payerId: string,
  approverId: string,
  now: Date,
): Promise<string[]> {
  const rows = await tx
    .update(devices)
    .set({ status: "canceled", endedAt: now })
    .where(
      and(
        eq(devices.payerId, payerId),
        eq(devices.status, "pending"),
        eq(devices.approvedBy, `device:${approverId}`),
        sql`${devices.activatesAt} > ${now}`,
      ),
    )
    .returning({ id: devices.id });
  return rows.map((r) => r.id);
}

/** Schedules the revocation of the payer's other live devices for when `recovering` takes effect. */
export async function scheduleRevocationOfOthers(tx: Executor, recovering: DeviceRow): Promise<string[]> {
  const rows = await tx
    .update(devices)
    .set({ revokeAt: recovering.activatesAt, revokeScheduledBy: recovering.id })
    .where(
      and(
        eq(devices.payerId, recovering.payerId),
        ne(devices.id, recovering.id),
        inArray(devices.status, ["active", "pending"]),
      ),
    )
    .returning({ id: devices.id });
  return rows.map((r) => r.id);
}

/** Lifts the revocations that a recovery now canceled had scheduled. */
export async function unscheduleRevocationsBy(tx: Executor, recoveringId: string): Promise<void> {
  await tx
    .update(devices)
    .set({ revokeAt: null, revokeScheduledBy: null })
    .where(eq(devices.revokeScheduledBy, recoveringId));
}

/** Payers with a scheduled revocation that is due (a recovery took effect): the maintenance task revokes them. */
export async function payersWithDueRevocations(db: Executor, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectDistinct({ payerId: devices.payerId })
    .from(devices)
    .where(and(isNotNull(devices.revokeAt), lte(devices.revokeAt, now), inArray(devices.status, ["active", "pending"])))
    .limit(limit);
  return rows.map((r) => r.payerId);
}

/** Stores a statement nonce for the payer. */
export async function insertStatementNonce(db: Executor, row: typeof statementNonces.$inferInsert): Promise<void> {
  await db.insert(statementNonces).values(row);
}

/** Drops the payer's oldest nonces beyond `keep` (a payer cannot pile up unbounded rows). */
export async function trimStatementNonces(db: Executor, payerId: string, keep: number): Promise<void> {
  const kept = db
    .select({ nonce: statementNonces.nonce })
    .from(statementNonces)
    .where(eq(statementNonces.payerId, payerId))
    .orderBy(sql`${statementNonces.createdAt} desc`)
    .limit(keep);
  await db
    .delete(statementNonces)
    .where(and(eq(statementNonces.payerId, payerId), sql`${statementNonces.nonce} not in (${kept})`));
}

/** Spends a nonce: true for the one caller that finds it unexpired for this payer, in any process. */
export async function spendStatementNonce(db: Executor, payerId: string, nonce: string, now: Date): Promise<boolean> {
  const rows = await db
    .delete(statementNonces)
    .where(
      and(
        eq(statementNonces.nonce, nonce),
        eq(statementNonces.payerId, payerId),
        sql`${statementNonces.expiresAt} > ${now}`,
      ),
    )
    .returning({ nonce: statementNonces.nonce });
  return rows.length === 1;
}

export async function purgeStatementNonces(db: Executor, now: Date): Promise<number> {
  const rows = await db
    .delete(statementNonces)
    .where(lte(statementNonces.expiresAt, now))
    .returning({ nonce: statementNonces.nonce });
  return rows.length;
}

export async function findDevice(db: Executor, id: string): Promise<DeviceRow | null> {
  const rows = await deviceById(db).execute({ id });
  return rows[0] ?? null;
}

export async function findByThumbprint(db: Executor, thumbprint: string): Promise<DeviceRow | null> {
  const rows = await deviceByThumbprint(db).execute({ thumbprint });
  return rows[0] ?? null;
}

// The device reads of every approval (challenge, approve, authorize), prepared once per handle.
const deviceById = preparedPer((db: Executor) =>
  db
    .select()
    .from(devices)
    .where(eq(devices.id, sql.placeholder("id")))
    .prepare("device_by_id"),
);
const deviceByThumbprint = preparedPer((db: Executor) =>
  db
    .select()
    .from(devices)
    .where(eq(devices.keyThumbprint, sql.placeholder("thumbprint")))
    .prepare("device_by_thumbprint"),
);

export async function insertDevice(tx: Executor, row: typeof devices.$inferInsert): Promise<DeviceRow> {
  const [inserted] = await tx.insert(devices).values(row).returning();
  return inserted!;
}

/** Ends a device (revoked or canceled) if it is still in one of `only`; the revocations it scheduled are lifted. */
export async function endDevice(
  tx: Executor,
  id: string,
  status: "revoked" | "canceled",
  only: Array<DeviceRow["status"]>,
  now: Date,
): Promise<DeviceRow | null> {
  const [row] = await tx
    .update(devices)
    .set({ status, endedAt: now, revokeAt: null, revokeScheduledBy: null })
    .where(and(eq(devices.id, id), inArray(devices.status, only)))
    .returning();
  if (row) await unscheduleRevocationsBy(tx, row.id);
  return row ?? null;
}
