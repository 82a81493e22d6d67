import { and, eq, gt, isNull, or, sql } from "drizzle-orm";
import { queryRows, type Executor } from "../db/client.ts";
import { apiKeys, merchants, webhookSecrets } from "./schema.ts";
import type { Mode } from "@mpay/protocol";

export type MerchantRow = typeof merchants.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;

export async function insertMerchant(db: Executor, row: typeof merchants.$inferInsert): Promise<MerchantRow> {
  const [inserted] = await db.insert(merchants).values(row).returning();
  return inserted!;
}

export async function updateAllowedOrigins(db: Executor, id: string, origins: string[]): Promise<MerchantRow> {
  const [updated] = await db.update(merchants).set({ allowedOrigins: origins }).where(eq(merchants.id, id)).returning();
  return updated!;
}

export async function findMerchant(db: Executor, id: string): Promise<MerchantRow | null> {
  const rows = await db.select().from(merchants).where(eq(merchants.id, id));
  return rows[0] ?? null;
}

export async function listMerchants(db: Executor): Promise<MerchantRow[]> {
  return db.select().from(merchants).orderBy(merchants.id);
}

export async function insertApiKey(db: Executor, row: typeof apiKeys.$inferInsert): Promise<void> {
  await db.insert(apiKeys).values(row);
}

export async function findKeyByHash(
  db: Executor,
  keyHash: string,
): Promise<{ key: ApiKeyRow; merchant: MerchantRow } | null> {
  const rows = await db
    .select({ key: apiKeys, merchant: merchants })
    .from(apiKeys)
    .innerJoin(merchants, eq(apiKeys.merchantId, merchants.id))
    .where(eq(apiKeys.keyHash, keyHash));
  return rows[0] ?? null;
}

/** Sets the expiry of every still-valid key of that kind and mode (a roll); returns their ids. */
export async function expireKeys(
  db: Executor,
  merchantId: string,
  mode: Mode,
  kind: "secret" | "publishable",
  at: Date,
): Promise<string[]> {
  const rows = await db
    .update(apiKeys)
    .set({ expiresAt: at })
    .where(
      and(
        eq(apiKeys.merchantId, merchantId),
        eq(apiKeys.mode, mode),
        eq(apiKeys.kind, kind),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, at)),
      ),
    )
    .returning({ id: apiKeys.id });
  return rows.map((r) => r.id);
}

export async function countLiveKeys(db: Executor): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from api_keys where mode = 'live'`);
  return Number(row?.n ?? 0);
}

/** True when the merchant has keys for `mode` (a dashboard user may work in that mode only then). */
export async function hasModeKeys(db: Executor, merchantId: string, mode: Mode): Promise<boolean> {
  const rows = await db
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.merchantId, merchantId), eq(apiKeys.mode, mode), eq(apiKeys.kind, "secret")))
    .limit(1);
  return rows.length === 1;
}

export async function insertWebhookSecret(
  db: Executor,
  merchantId: string,
  mode: Mode,
  sealedSecret: string,
): Promise<void> {
  await db
    .insert(webhookSecrets)
    .values({ merchantId, mode, sealedSecret })
    .onConflictDoUpdate({
      target: [webhookSecrets.merchantId, webhookSecrets.mode],
      set: { sealedSecret, createdAt: sql`now()` },
    });
}

export async function findWebhookSecret(db: Executor, merchantId: string, mode: Mode): Promise<string | null> {
  const rows = await db
    .select({ sealed: webhookSecrets.sealedSecret })
    .from(webhookSecrets)
    .where(and(eq(webhookSecrets.merchantId, merchantId), eq(webhookSecrets.mode, mode)));
  return rows[0]?.sealed ?? null;
}

/** Suspends (`at`) or lifts the suspension (null); null when there is no such merchant. */
export async function setSuspended(db: Executor, id: string, at: Date | null): Promise<MerchantRow | null> {
  const rows = await db.update(merchants).set({ suspendedAt: at }).where(eq(merchants.id, id)).returning();
  return rows[0] ?? null;
}
