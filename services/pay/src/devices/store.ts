import { and, eq, inArray, isNotNull, lte, ne, sql } from "drizzle-orm";
import { driverDate as date, driverDateOrNull as dateOrNull, namedStatement } from "@mpay/service-kit";
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
  const [row] = await deviceById.run(db, { id });
  return row ? deviceOf(row) : null;
}

export async function findByThumbprint(db: Executor, thumbprint: string): Promise<DeviceRow | null> {
  const [row] = await deviceByThumbprint.run(db, { thumbprint });
  return row ? deviceOf(row) : null;
}

// The device reads of every approval (challenge, approve, authorize), named (service-kit named-statement.ts):
// drizzle builds nothing for them, not even in a transaction (the approval re-reads its device in its own).
const DEVICE_COLUMNS = sql.raw(
  `id, payer_id, key_thumbprint, public_key_jwk, name, status, activates_at, approved_by, revoke_at,
  revoke_scheduled_by, created_at, ended_at`,
);
const deviceById = namedStatement<RawDevice>(
  "devices_by_id",
  sql`select ${DEVICE_COLUMNS} from devices where id = ${sql.placeholder("id")}`,
);
const deviceByThumbprint = namedStatement<RawDevice>(
  "devices_by_thumbprint",
  sql`select ${DEVICE_COLUMNS} from devices where key_thumbprint = ${sql.placeholder("thumbprint")}`,
);

/** A device row as the driver reads it: timestamps as text, the JWK parsed (named-statement.ts). */
interface RawDevice {
  id: string;
  payer_id: string;
  key_thumbprint: string;
  public_key_jwk: DeviceRow["publicKeyJwk"];
  name: string;
  status: DeviceRow["status"];
  activates_at: unknown;
  approved_by: string;
  revoke_at: unknown;
  revoke_scheduled_by: string | null;
  created_at: unknown;
  ended_at: unknown;
}

function deviceOf(r: RawDevice): DeviceRow {
  return {
    id: r.id,
    payerId: r.payer_id,
    keyThumbprint: r.key_thumbprint,
    publicKeyJwk: r.public_key_jwk,
    name: r.name,
    status: r.status,
    activatesAt: date(r.activates_at),
    approvedBy: r.approved_by,
    revokeAt: dateOrNull(r.revoke_at),
    revokeScheduledBy: r.revoke_scheduled_by,
    createdAt: date(r.created_at),
    endedAt: dateOrNull(r.ended_at),
  };
}

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
