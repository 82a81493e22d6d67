/** SQL for device and passkey bindings, and for device keys unbound for good. */
import { and, count, eq, isNull, sql } from "drizzle-orm";
import { driverDate as date, namedStatement } from "@mpay/service-kit";
import type { EcPublicJwk } from "@mpay/protocol";
import type { Executor } from "../db/client.ts";
import { deviceBindings, passkeyBindings, revokedDevices } from "./schema.ts";

export type BindingRow = typeof deviceBindings.$inferSelect;
export type PasskeyRow = typeof passkeyBindings.$inferSelect;

export interface NewBinding {
  id: string;
  cardRef: string;
  deviceKid: string;
  deviceJwk: EcPublicJwk;
  payerRef: string;
  boundAt: Date;
}

/** Binds the device to the card; a device already bound to it keeps its binding (and its id). */
export async function bindDevice(tx: Executor, binding: NewBinding): Promise<BindingRow> {
  await tx
    .insert(deviceBindings)
    .values(binding)
    .onConflictDoNothing({ target: [deviceBindings.cardRef, deviceBindings.deviceKid] });
  const [row] = await tx
    .select()
    .from(deviceBindings)
    .where(and(eq(deviceBindings.cardRef, binding.cardRef), eq(deviceBindings.deviceKid, binding.deviceKid)))
    .limit(1);
  if (!row) throw new Error("device binding vanished");
  return row;
}

/** Binds passkeys with a device binding; a passkey bound before takes the new key and binding. */
export async function bindPasskeys(
  tx: Executor,
  cardRef: string,
  bindingId: string,
  passkeys: ReadonlyArray<{ id: string; publicKey: string }>,
  now: Date,
): Promise<void> {
  for (const passkey of passkeys) {
    await tx
      .insert(passkeyBindings)
      .values({
        cardRef,
        credentialId: passkey.id,
        bindingId,
        publicKey: passkey.publicKey,
        signCount: 0,
        boundAt: now,
      })
      .onConflictDoUpdate({
        target: [passkeyBindings.cardRef, passkeyBindings.credentialId],
        set: { bindingId, publicKey: passkey.publicKey, signCount: 0, boundAt: now, unboundAt: null },
      });
  }
}

/** The device's live binding to the card, or null (never bound, or unbound). */
export async function activeBinding(db: Executor, cardRef: string, deviceKid: string): Promise<BindingRow | null> {
  const [row] = await db
    .select()
    .from(deviceBindings)
    .where(
      and(
        eq(deviceBindings.cardRef, cardRef),
        eq(deviceBindings.deviceKid, deviceKid),
        isNull(deviceBindings.unboundAt),
      ),
    )
    .limit(1);
  return row ?? null;
}

/** Any live binding of the device (to find its public key by kid before the card is known). */
export async function anyActiveBinding(db: Executor, deviceKid: string): Promise<BindingRow | null> {
  const [row] = await db
    .select()
    .from(deviceBindings)
    .where(and(eq(deviceBindings.deviceKid, deviceKid), isNull(deviceBindings.unboundAt)))
    .limit(1);
  return row ?? null;
}

export async function bindingsOfCard(db: Executor, cardRef: string): Promise<BindingRow[]> {
  return db.select().from(deviceBindings).where(eq(deviceBindings.cardRef, cardRef)).orderBy(deviceBindings.boundAt);
}

export async function passkeyCountsOfCard(db: Executor, cardRef: string): Promise<Map<string, number>> {
  const rows = await db
    .select({ bindingId: passkeyBindings.bindingId, n: count() })
    .from(passkeyBindings)
    .where(and(eq(passkeyBindings.cardRef, cardRef), isNull(passkeyBindings.unboundAt)))
    .groupBy(passkeyBindings.bindingId);
  return new Map(rows.map((r) => [r.bindingId, Number(r.n)]));
}

/** A passkey binding as the driver reads it (named-statement.ts): int8 as text or bigint, timestamps as text. */
interface RawPasskey {
  card_ref: string;
  credential_id: string;
  binding_id: string;
  public_key: string;
  sign_count: unknown;
  bound_at: unknown;
  unbound_at: unknown;
}

/**
 * `activePasskey`'s join, named (issue 11: every passkey payment ran it, built by drizzle's query builder each
 * time). Both bindings are read live on every call: an unbound device's passkeys stop at once.
 */
const activePasskeyStatement = namedStatement<RawPasskey>(
  "issuer_active_passkey",
  sql`select p."card_ref", p."credential_id", p."binding_id", p."public_key", p."sign_count", p."bound_at",
    p."unbound_at"
  from "passkey_bindings" p join "device_bindings" d on d."id" = p."binding_id"
  where p."card_ref" = ${sql.placeholder("cardRef")} and p."credential_id" = ${sql.placeholder("credentialId")}
    and p."unbound_at" is null and d."unbound_at" is null
  limit 1`,
);

/** A live passkey of the card whose device binding is live too. */
export async function activePasskey(db: Executor, cardRef: string, credentialId: string): Promise<PasskeyRow | null> {
  const [row] = await activePasskeyStatement.run(db, { cardRef, credentialId });
  if (!row) return null;
  return {
    cardRef: row.card_ref,
    credentialId: row.credential_id,
    bindingId: row.binding_id,
    publicKey: row.public_key,
    signCount: Number(row.sign_count),
    boundAt: date(row.bound_at),
    unboundAt: row.unbound_at === null || row.unbound_at === undefined ? null : date(row.unbound_at),
  };
}

export async function setPasskeyCounter(
  tx: Executor,
  cardRef: string,
  credentialId: string,
  signCount: number,
): Promise<void> {
  await tx
    .update(passkeyBindings)
    .set({ signCount })
    .where(and(eq(passkeyBindings.cardRef, cardRef), eq(passkeyBindings.credentialId, credentialId)));
}

export async function isRevoked(db: Executor, deviceKid: string): Promise<boolean> {
  const [row] = await db
    .select({ kid: revokedDevices.deviceKid })
    .from(revokedDevices)
    .where(eq(revokedDevices.deviceKid, deviceKid))
    .limit(1);
  return row !== undefined;
}

/** Was this key ever bound here (live or not)? */
export async function everBound(db: Executor, deviceKid: string): Promise<boolean> {
  const [row] = await db
    .select({ id: deviceBindings.id })
    .from(deviceBindings)
    .where(eq(deviceBindings.deviceKid, deviceKid))
    .limit(1);
  return row !== undefined;
}

/** Unbinds every live binding of the device and its passkeys, and revokes the key for good; returns how many. */
export async function unbindDevice(tx: Executor, deviceKid: string, now: Date): Promise<number> {
  await tx.insert(revokedDevices).values({ deviceKid, revokedAt: now }).onConflictDoNothing();
  const unbound = await tx
    .update(deviceBindings)
    .set({ unboundAt: now })
    .where(and(eq(deviceBindings.deviceKid, deviceKid), isNull(deviceBindings.unboundAt)))
    .returning({ id: deviceBindings.id });
  for (const { id } of unbound) {
    await tx
      .update(passkeyBindings)
      .set({ unboundAt: now })
      .where(and(eq(passkeyBindings.bindingId, id), isNull(passkeyBindings.unboundAt)));
  }
  return unbound.length;
}
