import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { call, openTestPay, type TestPay } from "../testing/system.ts";
import { generateApiKey, parseApiKey } from "./api-keys.ts";

describe("API key format", () => {
  it("makes keys that parse back to their kind and mode", () => {
    expect(parseApiKey(generateApiKey("secret", "test"))).toEqual({ kind: "secret", mode: "test" });
    expect(parseApiKey(generateApiKey("publishable", "live"))).toEqual({ kind: "publishable", mode: "live" });
    expect(parseApiKey("sk_prod_abc")).toBeNull();
  });
});

describe.each(testBackends())("merchant keys [%s]", (backend) => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay(backend);
  });
  afterAll(() => t.close());

  it("stores secret keys only as hashes", async () => {
    const rows = await queryRows<Record<string, unknown>>(t.system.database.db, sql`select * from api_keys`);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(t.merchant.secretKey);
    expect(dump).not.toContain(t.merchant.secretKey.slice(8));
    const secrets = await queryRows<Record<string, unknown>>(t.system.database.db, sql`select * from webhook_secrets`);
    expect(JSON.stringify(secrets)).not.toContain(t.merchant.webhookSecret.slice(6));
  });

  it("rolls the secret key: the new key works, the old one expires when told", async () => {
    const merchant = await t.createMerchant("Roller");
    const rolled = await call<{ secretKey: string; oldKeysExpireAt: string }>(
      t.app,
      "POST",
      "/v1/api-keys/roll",
      merchant.secretKey,
      { expiresInSeconds: 3600 },
    );
    expect(rolled.status).toBe(200);
    expect(rolled.body.secretKey).toMatch(/^sk_test_/);
    // Within the grace period both keys work.
    expect((await call(t.app, "GET", "/v1/payments", merchant.secretKey)).status).toBe(200);
    expect((await call(t.app, "GET", "/v1/payments", rolled.body.secretKey)).status).toBe(200);
    // Roll again with immediate expiry: the previous keys stop at once (this process's cache is cleared on roll).
    const second = await call<{ secretKey: string }>(t.app, "POST", "/v1/api-keys/roll", rolled.body.secretKey, {});
    const old = await call<{ error: { code: string } }>(t.app, "GET", "/v1/payments", rolled.body.secretKey);
    expect([old.status, old.body.error.code]).toEqual([401, "api_key_expired"]);
    expect((await call(t.app, "GET", "/v1/payments", second.body.secretKey)).status).toBe(200);
    const audit = await t.system.audit.verify();
    expect(audit.ok).toBe(true);
    const [rolls] = await queryRows<{ n: number }>(
      t.system.database.db,
      sql`select count(*)::int as n from audit_log where action = 'api_key.rolled' and target = ${merchant.id}`,
    );
    expect(Number(rolls?.n)).toBe(2);
  });

  it("rolls once per Idempotency-Key and never stores or replays the new key", async () => {
    const merchant = await t.createMerchant("Careful Roller");
    const headers = { "idempotency-key": "roll-1" };
    const first = await call<{ secretKey: string }>(
      t.app,
      "POST",
      "/v1/api-keys/roll",
      merchant.secretKey,
      { expiresInSeconds: 600 },
      headers,
    );
    expect(first.status).toBe(200);
    const again = await call<{ error: { code: string } }>(
      t.app,
      "POST",
      "/v1/api-keys/roll",
      merchant.secretKey,
      { expiresInSeconds: 600 },
      headers,
    );
    expect([again.status, again.body.error.code]).toEqual([409, "idempotency_key_reused"]);
    const stored = await queryRows<Record<string, unknown>>(t.system.database.db, sql`select * from idempotency_keys`);
    expect(JSON.stringify(stored)).not.toContain(first.body.secretKey);
    const [keys] = await queryRows<{ n: number }>(
      t.system.database.db,
      sql`select count(*)::int as n from api_keys where merchant_id = ${merchant.id} and kind = 'secret'`,
    );
    expect(Number(keys?.n)).toBe(2);
  });

  it("refuses live keys while the key provider is dev", async () => {
    await expect(t.system.merchants.create({ name: "Live Shop", mode: "live" })).rejects.toMatchObject({
      code: "live_mode_forbidden",
    });
  });
});
