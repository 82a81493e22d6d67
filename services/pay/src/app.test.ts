import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, openTestPay, type TestPay } from "./testing/system.ts";

describe("pay server surface [pglite]", () => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay("pglite");
  });
  afterAll(() => t.close());

  it("serves health, readiness and Prometheus metrics", async () => {
    expect((await call(t.app, "GET", "/healthz", null)).body).toEqual({ status: "ok" });
    expect((await call(t.app, "GET", "/readyz", null)).body).toMatchObject({ status: "ready" });
    await call(t.app, "GET", "/v1/payments", t.merchant.secretKey);
    const metrics = await t.app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toContain("mpay_http_request_duration_seconds_bucket");
    expect(metrics.body).toContain('route="/v1/payments"');
    // Each card issuer's circuit breaker, once a call went to it (none has yet: the gauge is declared, empty).
    expect(metrics.body).toContain("# TYPE mpay_issuer_breaker_state gauge");
  });

  it("publishes an OpenAPI document generated from the route schemas", async () => {
    const doc = (
      await call<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
        t.app,
        "GET",
        "/openapi.json",
        null,
      )
    ).body;
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/v1/payments",
      "/v1/payments/{id}",
      "/v1/payments/{id}/capture",
      "/v1/payments/{id}/cancel",
      "/v1/payments/{id}/refunds",
      "/v1/events",
      "/v1/webhook-endpoints",
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    const create = doc.paths["/v1/payments"]?.["post"] as {
      requestBody: {
        content: {
          "application/json": {
            schema: { required: string[]; additionalProperties: boolean; properties: Record<string, unknown> };
          };
        };
      };
    };
    expect(create.requestBody.content["application/json"].schema.required).toEqual(
      expect.arrayContaining(["amount", "currency", "orderId", "itemName"]),
    );
    // returnUrl and cancelUrl are required unless the payment charges a mandate off-session (checked by the service).
    expect(Object.keys(create.requestBody.content["application/json"].schema.properties)).toEqual(
      expect.arrayContaining(["returnUrl", "cancelUrl", "setupFutureUsage", "mandate"]),
    );
    expect(create.requestBody.content["application/json"].schema.additionalProperties).toBe(false);
  });

  it("has no route that approves, authorizes or declines a payment, with any key", async () => {
    const doc = (await call<{ paths: Record<string, Record<string, unknown>> }>(t.app, "GET", "/openapi.json", null))
      .body;
    // The payer's routes (/v1/payer/…) take no merchant key; among them the approval only records a verified
    // approval and leaves the payment awaiting the issuer (approvals.test.ts).
    const operations = Object.entries(doc.paths)
      .filter(([path]) => !path.startsWith("/v1/payer/"))
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations.filter((op) => /approv|authoriz|declin|confirm|decision/i.test(op))).toEqual([]);
    // Every POST that touches one payment is one of the merchant's legal moves, none of which leaves requires_approval
    // except cancel (to canceled).
    expect(operations.filter((op) => op.startsWith("POST /v1/payments/{id}")).sort()).toEqual([
      "POST /v1/payments/{id}/cancel",
      "POST /v1/payments/{id}/capture",
      "POST /v1/payments/{id}/refunds",
    ]);
    const { body: payment } = await call<{ id: string }>(t.app, "POST", "/v1/payments", t.merchant.secretKey, {
      amount: 1000,
      currency: "KRW",
      orderId: "o",
      itemName: "i",
      returnUrl: "https://shop.example/a",
      cancelUrl: "https://shop.example/b",
    });
    for (const guess of ["approve", "authorize", "confirm"]) {
      const res = await call(t.app, "POST", `/v1/payments/${payment.id}/${guess}`, t.merchant.secretKey, {});
      expect(res.status).toBe(404);
    }
    expect(
      (await call<{ status: string }>(t.app, "GET", `/v1/payments/${payment.id}`, t.merchant.secretKey)).body.status,
    ).toBe("requires_approval");
  });
});
