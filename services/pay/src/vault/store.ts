import { and, eq, isNotNull, lt, ne, sql } from "drizzle-orm";
import { driverDate as date, namedStatement, onFoundRow } from "@mpay/service-kit";
import { queryRows, type Executor } from "../db/client.ts";
import { cardEnrollments, cards, deviceUnbinds } from "./schema.ts";

export type CardRow = typeof cards.$inferSelect;
export type EnrollmentRow = typeof cardEnrollments.$inferSelect;

export async function insertEnrollment(db: Executor, row: typeof cardEnrollments.$inferInsert): Promise<EnrollmentRow> {
  const [inserted] = await db.insert(cardEnrollments).values(row).returning();
  return inserted!;
}

export async function findEnrollment(db: Executor, id: string, payerId: string): Promise<EnrollmentRow | null> {
  const rows = await db
    .select()
    .from(cardEnrollments)
    .where(and(eq(cardEnrollments.id, id), eq(cardEnrollments.payerId, payerId)));
  return rows[0] ?? null;
}

/** Moves an enrollment out of `verification_required` once; false when another request got there first. */
export async function endEnrollment(
  db: Executor,
  id: string,
  status: "verified" | "failed",
  cardId: string | null,
): Promise<boolean> {
  const rows = await db
    .update(cardEnrollments)
    .set({ status, cardId })
    .where(and(eq(cardEnrollments.id, id), eq(cardEnrollments.status, "verification_required")))
    .returning({ id: cardEnrollments.id });
  return rows.length === 1;
}

export async function insertCard(db: Executor, row: typeof cards.$inferInsert): Promise<CardRow> {
  const [inserted] = await db.insert(cards).values(row).returning();
  return inserted!;
}

export async function findCard(db: Executor, id: string, payerId: string): Promise<CardRow | null> {
  const [row] = await payerCard.run(db, { id, payerId });
  return row ? cardOf(row) : null;
}

export async function lockCard(tx: Executor, id: string, payerId: string): Promise<CardRow | null> {
  const rows = await tx
    .select()
    .from(cards)
    .where(and(eq(cards.id, id), eq(cards.payerId, payerId)))
    .for("update");
  return rows[0] ?? null;
}

/**
 * The payer's card, locked, for the approval that releases it (once per payment, in the approval's transaction):
 * named (service-kit named-statement.ts), so drizzle builds nothing for it. The lock holds a removal of the card,
 * or a rotation of its K_srv, until the release has committed.
 */
export async function lockCardForRelease(tx: Executor, id: string, payerId: string): Promise<CardRow | null> {
  const [row] = await cardForRelease.run(tx, { id, payerId });
  return row ? cardOf(row) : null;
}

const CARD_COLUMNS = sql.raw(
  `id, payer_id, device_id, issuer_id, card_ref, brand, last4, expiry_month, status, sealed_card, sealed_profile,
  record_version, wrapped_k_srv, kek_version, created_at, removed_at`,
);

/**
 * The card read of every approval (the challenge) and of its receipt, which reads it in the issuer's decision's
 * transaction: named, so drizzle builds it in no request (a prepared drizzle query is made again per transaction).
 */
const payerCard = namedStatement<RawCard>(
  "vault_payer_card",
  sql`select ${CARD_COLUMNS} from cards where id = ${sql.placeholder("id")} and ${onFoundRow(sql`payer_id = ${sql.placeholder("payerId")}`)}`,
);

const cardForRelease = namedStatement<RawCard>(
  "vault_card_for_release",
  sql`select ${CARD_COLUMNS} from cards
  where id = ${sql.placeholder("id")} and ${onFoundRow(sql`payer_id = ${sql.placeholder("payerId")}`)}
  for update`,
);

/** A card row as the driver reads it: timestamps as text (named-statement.ts). */
interface RawCard {
  id: string;
  payer_id: string;
  device_id: string;
  issuer_id: string;
  card_ref: string;
  brand: string;
  last4: string;
  expiry_month: string;
  status: CardRow["status"];
  sealed_card: string | null;
  sealed_profile: string | null;
  record_version: number | null;
  wrapped_k_srv: string | null;
  kek_version: number | null;
  created_at: unknown;
  removed_at: unknown;
}

function cardOf(r: RawCard): CardRow {
  return {
    id: r.id,
    payerId: r.payer_id,
    deviceId: r.device_id,
    issuerId: r.issuer_id,
    cardRef: r.card_ref,
    brand: r.brand,
    last4: r.last4,
    expiryMonth: r.expiry_month,
    status: r.status,
    sealedCard: r.sealed_card,
    sealedProfile: r.sealed_profile,
    recordVersion: r.record_version,
    wrappedKSrv: r.wrapped_k_srv,
    kekVersion: r.kek_version,
    createdAt: date(r.created_at),
    removedAt: r.removed_at === null || r.removed_at === undefined ? null : date(r.removed_at),
  };
}

export async function cardsOf(db: Executor, payerId: string): Promise<CardRow[]> {
  return db
    .select()
    .from(cards)
    .where(and(eq(cards.payerId, payerId), ne(cards.status, "removed")))
    .orderBy(cards.createdAt);
}

/** Every card the payer ever enrolled, removed ones included (a recovery may prove one the payer had). */
export async function cardsEverOf(db: Executor, payerId: string): Promise<CardRow[]> {
  return db.select().from(cards).where(eq(cards.payerId, payerId)).orderBy(cards.createdAt);
}

export async function updateCard(db: Executor, id: string, set: Partial<typeof cards.$inferInsert>): Promise<CardRow> {
  const [row] = await db.update(cards).set(set).where(eq(cards.id, id)).returning();
  return row!;
}

/**
 * Forgets a device's server shares: its cards are removed and their wrapped K_srv and sealed records deleted, so
 * nothing that device holds can be combined with anything here again. Returns the issuers it had cards at.
 */
export async function forgetDeviceCards(tx: Executor, deviceId: string): Promise<string[]> {
  const rows = await tx
    .update(cards)
    .set({
      status: "removed",
      wrappedKSrv: null,
      kekVersion: null,
      sealedCard: null,
      sealedProfile: null,
      removedAt: sql`now()`,
    })
    .where(and(eq(cards.deviceId, deviceId), ne(cards.status, "removed")))
    .returning({ issuerId: cards.issuerId });
  return [...new Set(rows.map((r) => r.issuerId))];
}

/** The issuers that ever bound the device's key: those of its cards (any status) and of its passed card checks. */
export async function issuersBoundTo(db: Executor, deviceId: string): Promise<string[]> {
  const rows = await queryRows<{ issuer_id: string }>(
    db,
    sql`select issuer_id from cards where device_id = ${deviceId} union select issuer_id from card_enrollments where device_id = ${deviceId} and status = 'verified'`,
  );
  return rows.map((r) => r.issuer_id);
}

/** The cards still wrapped under a KEK older than `version`, locked, a batch at a time (for rotation). */
export async function lockCardsBelowKekVersion(tx: Executor, version: number, limit: number): Promise<CardRow[]> {
  return tx
    .select()
    .from(cards)
    .where(and(isNotNull(cards.wrappedKSrv), lt(cards.kekVersion, version)))
    .limit(limit)
    .for("update", { skipLocked: true });
}

export async function countCardsBelowKekVersion(db: Executor, version: number): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from cards where wrapped_k_srv is not null and kek_version < ${version}`,
  );
  return Number(row?.n ?? 0);
}

export async function queueUnbinds(
  tx: Executor,
  deviceId: string,
  deviceKid: string,
  issuerIds: string[],
): Promise<void> {
  if (issuerIds.length === 0) return;
  await tx
    .insert(deviceUnbinds)
    .values(issuerIds.map((issuerId) => ({ deviceId, issuerId, deviceKid, status: "pending" as const })))
    .onConflictDoNothing();
}

export async function dueUnbinds(db: Executor, limit: number, now: Date) {
  return db
    .select()
    .from(deviceUnbinds)
    .where(and(eq(deviceUnbinds.status, "pending"), lt(deviceUnbinds.nextAttemptAt, now)))
    .limit(limit);
}

export async function unbindsOf(db: Executor, deviceId: string) {
  return db.select().from(deviceUnbinds).where(eq(deviceUnbinds.deviceId, deviceId));
}

export async function acknowledgeUnbind(db: Executor, deviceId: string, issuerId: string): Promise<void> {
  await db
    .update(deviceUnbinds)
    .set({ status: "acknowledged", acknowledgedAt: sql`now()` })
    .where(and(eq(deviceUnbinds.deviceId, deviceId), eq(deviceUnbinds.issuerId, issuerId)));
}

/** Backs an unacknowledged unbind off exponentially (1 s, 2 s, … capped at 10 minutes). */
export async function postponeUnbind(db: Executor, deviceId: string, issuerId: string): Promise<void> {
  await db
    .update(deviceUnbinds)
    .set({
      attempts: sql`${deviceUnbinds.attempts} + 1`,
      nextAttemptAt: sql`now() + least(interval '10 minutes', interval '1 second' * power(2, ${deviceUnbinds.attempts}))`,
    })
    .where(and(eq(deviceUnbinds.deviceId, deviceId), eq(deviceUnbinds.issuerId, issuerId)));
}
