import { and, desc, eq, gt, sql } from "drizzle-orm";
import { preparedPer } from "@mpay/service-kit";
import type { Executor } from "../db/client.ts";
import { payerSessions, payerSignInCodes, payerSignIns, payers } from "./schema.ts";

export type PayerRow = typeof payers.$inferSelect;

export async function insertSignIn(db: Executor, row: typeof payerSignIns.$inferInsert): Promise<void> {
  await db.insert(payerSignIns).values(row);
}

/** Takes a sign-in out (single use): a replayed callback finds nothing. */
export async function takeSignIn(db: Executor, state: string): Promise<typeof payerSignIns.$inferSelect | null> {
  const rows = await db.delete(payerSignIns).where(eq(payerSignIns.state, state)).returning();
  return rows[0] ?? null;
}

export async function purgeSignIns(db: Executor, now: Date): Promise<number> {
  const rows = await db
    .delete(payerSignIns)
    .where(sql`${payerSignIns.expiresAt} < ${now}`)
    .returning({ state: payerSignIns.state });
  const codes = await db
    .delete(payerSignInCodes)
    .where(sql`${payerSignInCodes.expiresAt} < ${now}`)
    .returning({ codeHash: payerSignInCodes.codeHash });
  return rows.length + codes.length;
}

export async function insertSignInCode(db: Executor, row: typeof payerSignInCodes.$inferInsert): Promise<void> {
  await db.insert(payerSignInCodes).values(row);
}

/** Takes a sign-in code out (single use): of two exchanges of one code, in any processes, one gets the row. */
export async function takeSignInCode(
  db: Executor,
  codeHash: string,
): Promise<typeof payerSignInCodes.$inferSelect | null> {
  const rows = await db.delete(payerSignInCodes).where(eq(payerSignInCodes.codeHash, codeHash)).returning();
  return rows[0] ?? null;
}

/** The payers whose messenger account has this (E.164) number, the most recently made first. */
export async function payersByPhoneNumber(db: Executor, phoneNumber: string): Promise<PayerRow[]> {
  return db
    .select()
    .from(payers)
    .where(eq(payers.phoneNumber, phoneNumber))
    .orderBy(desc(payers.createdAt), desc(payers.id))
    .limit(5);
}

/** Finds or creates the payer of a messenger subject; the display name follows the messenger's. */
export async function upsertPayer(
  db: Executor,
  row: { id: string; messengerSubject: string; displayName: string; phoneNumber: string | null },
): Promise<PayerRow> {
  const [payer] = await db
    .insert(payers)
    .values(row)
    .onConflictDoUpdate({
      target: payers.messengerSubject,
      set: { displayName: row.displayName, phoneNumber: row.phoneNumber },
    })
    .returning();
  return payer!;
}

export async function insertSession(db: Executor, row: typeof payerSessions.$inferInsert): Promise<void> {
  await db.insert(payerSessions).values(row);
}

export async function findSession(db: Executor, tokenHash: string, now: Date): Promise<PayerRow | null> {
  const rows = await sessionPayer(db).execute({ tokenHash, now: now.toISOString() });
  return rows[0]?.payer ?? null;
}

/** Every payer request authenticates with it. */
const sessionPayer = preparedPer((db: Executor) =>
  db
    .select({ payer: payers })
    .from(payerSessions)
    .innerJoin(payers, eq(payers.id, payerSessions.payerId))
    .where(
      and(
        eq(payerSessions.tokenHash, sql.placeholder("tokenHash")),
        gt(payerSessions.expiresAt, sql.placeholder("now")),
      ),
    )
    .prepare("payer_session"),
);

export async function payerById(db: Executor, id: string): Promise<PayerRow | null> {
  const [payer] = await db.select().from(payers).where(eq(payers.id, id)).limit(1);
  return payer ?? null;
}
