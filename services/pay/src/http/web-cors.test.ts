/**
 * CORS for the web app's origin (issue 9 contract): exactly that origin, on the payer's and the checkout's routes,
 * with bearer tokens and no credentials; merchant routes answer it too (the merchant dashboard, issue 10), and no
 * other origin.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestPay, type TestPay } from "../testing/system.ts";
import { isWebCorsPath } from "./web-cors.ts";

const WEB = "http://localhost:4300";

describe("CORS for the web app [pglite]", () => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay("pglite");
    expect(new URL(t.config.checkoutBaseUrl).origin).toBe(WEB);
  });
  afterAll(() => t.close());

  const preflight = (url: string, origin: string, method = "POST") =>
    t.app.inject({
      method: "OPTIONS",
      url,
      headers: {
        origin,
        "access-control-request-method": method,
        "access-control-request-headers": "authorization, content-type",
      },
    });

  it("answers the web app's preflight on the payer's and the checkout's routes", async () => {
    for (const url of ["/v1/payer/me", "/v1/payer/auth/exchange", "/v1/checkout/pay_01JTEST/push"]) {
      const answer = await preflight(url, WEB);
      expect(answer.statusCode, url).toBe(204);
      expect(answer.headers["access-control-allow-origin"]).toBe(WEB);
      expect(String(answer.headers["access-control-allow-methods"]).split(/,\s*/).sort()).toEqual([
        "DELETE",
        "GET",
        "POST",
      ]);
      expect(String(answer.headers["access-control-allow-headers"]).split(/,\s*/).sort()).toEqual([
        "authorization",
        "content-type",
        "idempotency-key",
      ]);
      // Bearer tokens, never cookies: the browser is not told it may send credentials.
      expect(answer.headers["access-control-allow-credentials"]).toBeUndefined();
    }
  });

  it("lets the web app read answers, errors included, and the headers it needs", async () => {
    const answer = await t.app.inject({ method: "GET", url: "/v1/payer/me", headers: { origin: WEB } });
    expect(answer.statusCode).toBe(401);
    expect(answer.headers["access-control-allow-origin"]).toBe(WEB);
    expect(String(answer.headers["access-control-expose-headers"])).toContain("retry-after");
    expect(String(answer.headers["vary"])).toContain("Origin");
  });

  it("gives any other origin nothing", async () => {
    for (const origin of ["https://evil.example", "http://localhost:4301", "http://127.0.0.1:4300", "null"]) {
      const answer = await preflight("/v1/payer/me", origin);
      expect(answer.headers["access-control-allow-origin"], origin).toBeUndefined();
      const get = await t.app.inject({ method: "GET", url: "/v1/payer/me", headers: { origin } });
      expect(get.headers["access-control-allow-origin"], origin).toBeUndefined();
    }
  });

  it("gives merchant routes CORS for the web app's origin alone (the dashboard), with MPay-Mode", async () => {
    for (const url of ["/v1/payments", "/v1/payments/pay_01JTEST/capture", "/v1/dashboard/sign-in"]) {
      const answer = await t.app.inject({
        method: "OPTIONS",
        url,
        headers: {
          origin: WEB,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type, mpay-mode",
        },
      });
      expect(answer.statusCode, url).toBe(204);
      expect(answer.headers["access-control-allow-origin"], url).toBe(WEB);
      expect(String(answer.headers["access-control-allow-headers"])).toContain("mpay-mode");
      const elsewhere = await preflight(url, "https://evil.example");
      expect(elsewhere.headers["access-control-allow-origin"], url).toBeUndefined();
    }
    for (const url of ["/openapi.json", "/v1/vault/status"]) {
      const answer = await preflight(url, WEB);
      expect(answer.statusCode, url).toBe(404);
      expect(answer.headers["access-control-allow-origin"], url).toBeUndefined();
    }
    const list = await t.app.inject({
      method: "GET",
      url: "/v1/payments",
      headers: { origin: WEB, authorization: `Bearer ${t.merchant.secretKey}` },
    });
    expect(list.statusCode).toBe(200);
    expect(list.headers["access-control-allow-origin"]).toBe(WEB);
    const evil = await t.app.inject({
      method: "GET",
      url: "/v1/payments",
      headers: { origin: "https://evil.example", authorization: `Bearer ${t.merchant.secretKey}` },
    });
    expect(evil.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("matches the paths by prefix, not by substring", () => {
    expect(isWebCorsPath("/v1/payer/me?x=1")).toBe(true);
    expect(isWebCorsPath("/v1/checkout/pay_1")).toBe(true);
    expect(isWebCorsPath("/v1/payments?next=/v1/payer/")).toBe(false);
    expect(isWebCorsPath("/v1/payers")).toBe(false);
    expect(isWebCorsPath("/x/v1/payer/me")).toBe(false);
  });
});
