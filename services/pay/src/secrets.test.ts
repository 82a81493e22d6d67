import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "./db/client.ts";
import { testBackends } from "./testing/databases.ts";
import { authorizeThroughService, call, openTestPay, paymentBody, type TestPay } from "./testing/system.ts";

/**
 * Exercises the API (including failures that log) and then searches every log line and every stored row for the
 * secrets in play: API secret keys, webhook signing secrets, the key provider's master key.
 */
describe.each(testBackends())("no secret in logs or rows [%s]", (backend) => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay(backend);
  });
  afterAll(() => t.close());

  it("finds none after a busy session", async () => {
    const key = t.merchant.secretKey;
    const { body } = await call<{ id: string }>(t.app, "POST", "/v1/payments", key, paymentBody(), {
      "idempotency-key": "s-1",
    });
    await authorizeThroughService(t.system, body.id);
    await call(t.app, "POST", `/v1/payments/${body.id}/capture`, key, {});
    await call(t.app, "POST", `/v1/payments/${body.id}/refunds`, key, { amount: 100 });
    await call(t.app, "POST", "/v1/webhook-endpoints", key, { url: "http://127.0.0.1:9/x", signatures: ["v1", "v1a"] });
    await call(t.app, "POST", "/v1/payments", key, '{"broken');
    await call(t.app, "GET", "/v1/payments", "sk_test_" + "Z".repeat(32));
    const rolled = await call<{ secretKey: string }>(t.app, "POST", "/v1/api-keys/roll", key, { expiresInSeconds: 60 });
    await t.system.deliveryWorker.runOnce();

    const keyFile = JSON.parse(await readFile(join(t.config.dataDir, "dev-keys.json"), "utf8")) as {
      keys: Record<string, string>;
    };
    const masterKeys = Object.values(keyFile.keys);
    const secrets = [
      key,
      key.slice(8),
      rolled.body.secretKey,
      t.merchant.webhookSecret,
      t.merchant.webhookSecret.slice(6),
      ...masterKeys,
    ];
    const dump = [t.logLines.join("\n")];
    for (const table of [
      "merchants",
      "api_keys",
      "webhook_secrets",
      "webhook_endpoints",
      "webhook_deliveries",
      "payments",
      "refunds",
      "events",
      "idempotency_keys",
      "audit_log",
      "audit_pending",
      "audit_heads",
      "audit_signed_heads",
      "ledger_entries",
    ]) {
      dump.push(JSON.stringify(await queryRows(t.system.database.db, sql.raw(`select * from ${table}`))));
    }
    const everything = dump.join("\n");
    expect(t.logLines.length).toBeGreaterThan(5);
    for (const secret of secrets) expect(everything.includes(secret), "a secret leaked").toBe(false);
    // The master key would also show up hex-encoded if someone logged a Buffer.
    for (const master of masterKeys)
      expect(everything.includes(Buffer.from(master, "base64").toString("hex"))).toBe(false);
  });
});
