/** The oidc-provider storage adapter against the real database: one suite, run on PGlite and on PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import type { AdapterFactory } from "oidc-provider";
import { migrateDatabase, openDatabase, type Database } from "../db/client.ts";
import { freshDatabase, testBackends, type FreshDatabase } from "../testing/databases.ts";
import { databaseAdapter } from "./adapter.ts";
import { sweepExpired } from "./sweep.ts";

describe.each(testBackends())("oidc storage adapter [%s]", (backend) => {
  let fresh: FreshDatabase;
  let database: Database;
  let adapter: AdapterFactory;

  beforeAll(async () => {
    fresh = await freshDatabase(backend);
    database = await openDatabase({ url: fresh.url, poolSize: 4 });
    await migrateDatabase(database);
    adapter = databaseAdapter(database.db);
  });
  afterAll(async () => {
    await database?.close();
    await fresh?.drop();
  });

  it("stores, finds and destroys a model instance; models do not see each other's ids", async () => {
    await adapter("Grant").upsert("g1", { accountId: "acct_1", clientId: "c", jti: "g1" }, 60);
    expect(await adapter("Grant").find("g1")).toEqual({ accountId: "acct_1", clientId: "c", jti: "g1" });
    expect(await adapter("Session").find("g1")).toBeUndefined();
    await adapter("Grant").upsert("g1", { accountId: "acct_1", clientId: "c", jti: "g1", scope: "openid" }, 60);
    expect(await adapter("Grant").find("g1")).toMatchObject({ scope: "openid" });
    await adapter("Grant").destroy("g1");
    expect(await adapter("Grant").find("g1")).toBeUndefined();
  });

  it("hides expired instances and sweeps them", async () => {
    await adapter("AccessToken").upsert("old", { jti: "old" }, 60);
    await adapter("AccessToken").upsert("forever", { jti: "forever" });
    await database.db.execute(sql`update oidc_models set expires_at = now() - interval '2 minutes' where id = 'old'`);
    expect(await adapter("AccessToken").find("old")).toBeUndefined();
    expect(await adapter("AccessToken").find("forever")).toMatchObject({ jti: "forever" });
    expect(await sweepExpired(database.db)).toBeGreaterThanOrEqual(1);
    const left = await database.db.execute(sql`select id from oidc_models where id in ('old', 'forever')`);
    expect((left as unknown as { rows: Array<{ id: string }> }).rows.map((row) => row.id)).toEqual(["forever"]);
  });

  it("finds sessions by uid", async () => {
    await adapter("Session").upsert("session-id", { jti: "session-id", uid: "uid-1", accountId: "acct_2" }, 60);
    expect(await adapter("Session").findByUid("uid-1")).toMatchObject({ jti: "session-id", accountId: "acct_2" });
    expect(await adapter("Session").findByUid("uid-2")).toBeUndefined();
  });

  it("consumes a code once; a second consume revokes the grant's tokens and fails with invalid_grant", async () => {
    const codes = adapter("AuthorizationCode");
    await adapter("Grant").upsert("grant-c", { jti: "grant-c" }, 60);
    await codes.upsert("code-1", { jti: "code-1", grantId: "grant-c" }, 60);
    await adapter("AccessToken").upsert("at-1", { jti: "at-1", grantId: "grant-c" }, 60);
    await codes.consume("code-1");
    expect(await codes.find("code-1")).toMatchObject({ consumed: expect.any(Number) });
    await expect(codes.consume("code-1")).rejects.toMatchObject({ error: "invalid_grant" });
    expect(await adapter("AccessToken").find("at-1")).toBeUndefined();
    expect(await adapter("Grant").find("grant-c")).toBeUndefined();
  });

  it("lets exactly one of many concurrent consumes win", async () => {
    const codes = adapter("AuthorizationCode");
    await codes.upsert("code-race", { jti: "code-race", grantId: "grant-race" }, 60);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => codes.consume("code-race")));
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
  });

  it("revokes by grant id within one model", async () => {
    await adapter("AccessToken").upsert("at-a", { jti: "at-a", grantId: "grant-r" }, 60);
    await adapter("AuthorizationCode").upsert("code-a", { jti: "code-a", grantId: "grant-r" }, 60);
    await adapter("AccessToken").revokeByGrantId("grant-r");
    expect(await adapter("AccessToken").find("at-a")).toBeUndefined();
    expect(await adapter("AuthorizationCode").find("code-a")).toBeDefined();
  });
});
