/**
 * oidc-provider's storage adapter over the messenger's database (table `oidc_models`), so that sessions,
 * interactions, grants, codes and tokens survive a restart and are shared by every process on the same database.
 * The contract is oidc-provider's `Adapter` (see its in-memory reference adapter); expired rows are invisible at
 * once and deleted by `sweepExpired` (sweep.ts).
 *
 * One addition to the contract: consuming a code is atomic. oidc-provider checks `consumed` and then calls
 * `consume()`; two concurrent exchanges of one code could both pass the check. Here only the first `consume()`
 * wins; the second revokes what the grant has issued so far (RFC 6749 §4.1.2) and fails with `invalid_grant`.
 */
import { and, eq, gt, isNull, or, sql } from "drizzle-orm";
import { errors, type Adapter, type AdapterFactory, type AdapterPayload } from "oidc-provider";
import type { Db } from "../db/client.ts";
import { oidcModels } from "../db/schema.ts";

/** Models whose instances are redeemed once at the token endpoint. */
const ONE_TIME_GRANTS = new Set([
  "AuthorizationCode",
  "RefreshToken",
  "DeviceCode",
  "BackchannelAuthenticationRequest",
  "PreAuthorizedCode",
]);

const notExpired = or(isNull(oidcModels.expiresAt), gt(oidcModels.expiresAt, sql`now()`));

class DatabaseAdapter implements Adapter {
  constructor(
    private readonly db: Db,
    private readonly model: string,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const row = {
      payload: payload as Record<string, unknown>,
      grantId: payload.grantId ?? null,
      uid: typeof payload.uid === "string" ? payload.uid : null,
      userCode: payload.userCode ?? null,
      expiresAt: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
    };
    await this.db
      .insert(oidcModels)
      .values({ model: this.model, id, ...row })
      .onConflictDoUpdate({ target: [oidcModels.model, oidcModels.id], set: row });
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.findWhere(eq(oidcModels.id, id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.findWhere(eq(oidcModels.uid, uid));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.findWhere(eq(oidcModels.userCode, userCode));
  }

  async consume(id: string): Promise<void> {
    const won = await this.db
      .update(oidcModels)
      .set({ consumedAt: sql`now()` })
      .where(and(eq(oidcModels.model, this.model), eq(oidcModels.id, id), isNull(oidcModels.consumedAt)))
      .returning({ id: oidcModels.id });
    if (won.length > 0 || !ONE_TIME_GRANTS.has(this.model)) return;
    const [lost] = await this.db
      .select({ grantId: oidcModels.grantId })
      .from(oidcModels)
      .where(and(eq(oidcModels.model, this.model), eq(oidcModels.id, id)));
    if (lost?.grantId) await revokeGrant(this.db, lost.grantId);
    throw new errors.InvalidGrant("grant already consumed");
  }

  async destroy(id: string): Promise<void> {
    await this.db.delete(oidcModels).where(and(eq(oidcModels.model, this.model), eq(oidcModels.id, id)));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.delete(oidcModels).where(and(eq(oidcModels.model, this.model), eq(oidcModels.grantId, grantId)));
  }

  private async findWhere(condition: ReturnType<typeof eq>): Promise<AdapterPayload | undefined> {
    const [row] = await this.db
      .select({ payload: oidcModels.payload, consumedAt: oidcModels.consumedAt })
      .from(oidcModels)
      .where(and(eq(oidcModels.model, this.model), condition, notExpired))
      .limit(1);
    if (!row) return undefined;
    const payload = row.payload as AdapterPayload;
    return row.consumedAt ? { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) } : payload;
  }
}

/** Everything issued from one grant, across models, and the grant itself. */
async function revokeGrant(db: Db, grantId: string): Promise<void> {
  await db
    .delete(oidcModels)
    .where(or(eq(oidcModels.grantId, grantId), and(eq(oidcModels.model, "Grant"), eq(oidcModels.id, grantId))));
}

export function databaseAdapter(db: Db): AdapterFactory {
  return (model: string) => new DatabaseAdapter(db, model);
}
