/**
 * Deletes provider state that has expired. Kept apart from adapter.ts so that the CLI, which sweeps nothing but
 * opens the same system, does not load oidc-provider.
 */
import { lte, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { oidcModels } from "../db/schema.ts";

/** Deletes rows that expired more than a minute ago (a margin for clock skew between processes); returns how many. */
export async function sweepExpired(db: Db): Promise<number> {
  const deleted = await db
    .delete(oidcModels)
    .where(lte(oidcModels.expiresAt, sql`now() - interval '1 minute'`))
    .returning({ id: oidcModels.id });
  return deleted.length;
}
