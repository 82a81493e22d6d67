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

/** Locks the payer's device rows for the rest of the transaction: binding decisions are made one at a time. */
export async function lockDevicesOf(tx: Executor, payerId: string): Promise<DeviceRow[]> {
  return tx.select().from(devices).where(eq(devices.payerId, payerId)).orderBy(devices.createdAt).for("update");
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
