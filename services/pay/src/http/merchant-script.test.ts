/**
 * The Pay with MPay button's script as the pay server serves it, its integrity value, and the one route the button
 * calls with a publishable key: CORS for the merchant's allowed origins alone, a payment's status and nothing more.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, openTestPay, paymentBody, TEST_ORIGIN, type TestPay } from "../testing/system.ts";
import { MERCHANT_SCRIPT_PATH } from "./merchant-script.ts";

describe("the merchant's browser script [pglite]", () => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay("pglite");
  });
  afterAll(() => t.close());

  it("serves the SDK's file as JavaScript, cached long, readable cross-origin, with its SHA-384 integrity", async () => {
    const file = await readFile(MERCHANT_SCRIPT_PATH);
    const script = await t.app.inject({ method: "GET", url: "/v1/js/mpay.js" });
    expect(script.statusCode).toBe(200);
    expect(script.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(script.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(script.headers["access-control-allow-origin"]).toBe("*");
    expect(script.headers["x-content-type-options"]).toBe("nosniff");
    expect(script.rawPayload.equals(file)).toBe(true);

    const integrity = `sha384-${createHash("sha384").update(file).digest("base64")}`;
    const sri = await t.app.inject({ method: "GET", url: "/v1/js/mpay.js.sri" });
    expect(sri.statusCode).toBe(200);
    expect(sri.body).toBe(integrity);
    expect(script.headers.etag).toBe(`"${integrity}"`);
  });

  it("is not in /openapi.json (neither is the status route)", async () => {
    const doc = await call<{ paths: Record<string, unknown> }>(t.app, "GET", "/openapi.json", null);
    expect(Object.keys(doc.body.paths).filter((p) => p.startsWith("/v1/js") || p.includes("checkout-status"))).toEqual(
      [],
    );
  });

  it("answers a payment's status to the publishable key, with CORS for the merchant's origins alone", async () => {
    const created = await call<{ id: string }>(t.app, "POST", "/v1/payments", t.merchant.secretKey, paymentBody());
    const url = `/v1/checkout-status/${created.body.id}?key=${t.merchant.publishableKey}`;
    const fromShop = await t.app.inject({ method: "GET", url, headers: { origin: TEST_ORIGIN } });
    expect(fromShop.statusCode).toBe(200);
    expect(fromShop.json()).toEqual({ object: "checkout_status", id: created.body.id, status: "requires_approval" });
    expect(fromShop.headers["access-control-allow-origin"]).toBe(TEST_ORIGIN);
    expect(fromShop.headers.vary).toContain("origin");

    const elsewhere = await t.app.inject({ method: "GET", url, headers: { origin: "https://evil.example" } });
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.json().error.code).toBe("url_not_registered");
    expect(elsewhere.headers["access-control-allow-origin"]).toBeUndefined();

    // Without an Origin (a server, curl) the answer is the same, with no CORS header.
    const plain = await t.app.inject({ method: "GET", url });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("refuses a secret key, an unknown key, and another merchant's payment", async () => {
    const created = await call<{ id: string }>(t.app, "POST", "/v1/payments", t.merchant.secretKey, paymentBody());
    const status = (key: string, id = created.body.id) =>
      t.app.inject({ method: "GET", url: `/v1/checkout-status/${id}?key=${encodeURIComponent(key)}` });

    const secret = await status(t.merchant.secretKey);
    expect(secret.statusCode).toBe(401);
    expect(secret.json().error).toMatchObject({ code: "api_key_invalid", param: "key" });
    expect(secret.body).not.toContain(t.merchant.secretKey);

    expect((await status("pk_test_0000000000000000000000")).json().error.code).toBe("api_key_invalid");

    const other = await t.createMerchant("Other Shop");
    const foreign = await status(other.publishableKey);
    expect(foreign.statusCode).toBe(404);

    expect((await t.app.inject({ method: "GET", url: `/v1/checkout-status/${created.body.id}` })).statusCode).toBe(400);
  });
});
