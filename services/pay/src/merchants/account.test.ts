/**
 * The merchant's account through the API (issue 10, deliverable 5): the origins its returnUrl and cancelUrl may
 * point at are read and replaced with the secret key, take effect at once (no restart for a new shop), are checked
 * as origins, and every change is in the audit log. Bad input changes nothing.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../db/client.ts";
import { testBackends } from "../testing/databases.ts";
import { call, openTestPay, paymentBody, type TestPay } from "../testing/system.ts";

type Account = { object: string; id: string; allowedOrigins: string[] };
type ErrorAnswer = { error: { code: string; param?: string } };

describe.each(testBackends())("the merchant's account [%s]", (backend) => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay(backend);
  });
  afterAll(() => t.close());

  it("registers a new shop's origin through the API, and payments may return there at once", async () => {
    const merchant = await t.createMerchant("Two Shops", ["https://first.example"]);
    const account = await call<Account>(t.app, "GET", "/v1/account", merchant.secretKey);
    expect(account.body).toMatchObject({
      object: "account",
      id: merchant.id,
      allowedOrigins: ["https://first.example"],
    });

    const toSecondShop = paymentBody({
      returnUrl: "https://second.example/orders/1/done",
      cancelUrl: "https://second.example/cart",
    });
    const refused = await call<ErrorAnswer>(t.app, "POST", "/v1/payments", merchant.secretKey, toSecondShop);
    expect([refused.status, refused.body.error.code]).toEqual([400, "url_not_registered"]);

    const updated = await call<Account>(t.app, "POST", "/v1/account", merchant.secretKey, {
      allowedOrigins: ["https://first.example", "https://second.example/", "https://second.example"],
    });
    expect(updated.status).toBe(200);
    expect(updated.body.allowedOrigins).toEqual(["https://first.example", "https://second.example"]);
    const created = await call<{ status: string }>(t.app, "POST", "/v1/payments", merchant.secretKey, toSecondShop);
    expect([created.status, created.body.status]).toEqual([200, "requires_approval"]);

    await t.system.audit.seal(); // appends reach audit_log when sealed (audit/service.ts)
    const audit = await queryRows<{ action: string; data: unknown }>(
      t.system.database.db,
      sql`select action, data from audit_log where target = ${merchant.id} and action = 'merchant.origins_updated'`,
    );
    expect(audit).toEqual([
      {
        action: "merchant.origins_updated",
        data: { before: ["https://first.example"], after: ["https://first.example", "https://second.example"] },
      },
    ]);
  });

  it("names a merchant by its registered display name, and no merchant that does not exist", async () => {
    const merchant = await t.createMerchant("Named Shop", ["https://named.example"]);
    expect(await t.system.merchants.displayName(merchant.id)).toBe("Named Shop");
    expect(await t.system.merchants.displayName(merchant.id)).toBe("Named Shop");
    expect(await t.system.merchants.displayName("mch_00000000000000000000000000")).toBeNull();
  });

  it("refuses what is not an origin, too many, and a publishable key, and changes nothing", async () => {
    const merchant = await t.createMerchant("Careful Shop", ["https://shop.example"]);
    const bad = [
      ["https://shop.example/path"],
      ["HTTPS://Shop.Example"],
      ["javascript:alert(1)"],
      ["https://user:pass@shop.example"],
      ["https://shop.example?x=1"],
      Array.from({ length: 21 }, (_, i) => `https://shop${i}.example`),
    ];
    for (const allowedOrigins of bad) {
      const answer = await call<ErrorAnswer>(t.app, "POST", "/v1/account", merchant.secretKey, { allowedOrigins });
      expect([answer.status, answer.body.error.code], JSON.stringify(allowedOrigins)).toEqual([
        400,
        "parameter_invalid",
      ]);
    }
    const byPublishable = await call<ErrorAnswer>(t.app, "POST", "/v1/account", merchant.publishableKey, {
      allowedOrigins: ["https://evil.example"],
    });
    expect(byPublishable.body.error.code).toBe("secret_key_required");
    const account = await call<Account>(t.app, "GET", "/v1/account", merchant.secretKey);
    expect(account.body.allowedOrigins).toEqual(["https://shop.example"]);
    await t.system.audit.seal(); // appends reach audit_log when sealed (audit/service.ts)
    const audit = await queryRows<{ n: number }>(
      t.system.database.db,
      sql`select count(*)::int as n from audit_log where target = ${merchant.id} and action = 'merchant.origins_updated'`,
    );
    expect(audit[0]!.n).toBe(0);
  });
});
