import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { devices } from "../db/schema.ts";

export type DeviceRow = typeof devices.$inferSelect;

/** A pending device whose waiting period has ended counts as active: no job has to flip it. */
export function effectiveStatus(d: DeviceRow, now = new Date()): DeviceRow["status"] {
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
export async function cancelApprovedBy(tx: Executor, payerId: string, approverId: string): Promise<string[]> {
  const rows = await tx
    .update(devices)
    .set({ status: "canceled", endedAt: sql`now()` })
    .where(and(eq(devices.payerId, payerId), eq(devices.status, "pending"), eq(devices.approvedBy, `device:${approverId}`), sql`${devices.activatesAt} > now()`))
    .returning({ id: devices.id });
  return rows.map((r) => r.id);
}

export async function findDevice(db: Executor, id: string): Promise<DeviceRow | null> {
  const rows = await db.select().from(devices).where(eq(devices.id, id));
  return rows[0] ?? null;
}

export async function findByThumbprint(db: Executor, thumbprint: string): Promise<DeviceRow | null> {
  const rows = await db.select().from(devices).where(eq(devices.keyThumbprint, thumbprint));
  return rows[0] ?? null;
}

export async function insertDevice(tx: Executor, row: typeof devices.$inferInsert): Promise<DeviceRow> {
  const [inserted] = await tx.insert(devices).values(row).returning();
  return inserted!;
}

export async function endDevice(tx: Executor, id: string, status: "revoked" | "canceled", only: Array<DeviceRow["status"]>): Promise<DeviceRow | null> {
  const [row] = await tx
    .update(devices)
    .set({ status, endedAt: sql`now()` })
    .where(and(eq(devices.id, id), inArray(devices.status, only)))
    .returning();
  return row ?? null;
}
