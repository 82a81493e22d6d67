/** /openapi.json names every operation once and says which credential each route takes. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, openTestPay, type TestPay } from "../testing/system.ts";
import { operationIdOf } from "./openapi.ts";

type Operation = { operationId?: string; security?: Array<Record<string, string[]>> };
type Document = {
  servers: Array<{ url: string }>;
  security: Array<Record<string, string[]>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
  paths: Record<string, Record<string, Operation>>;
};

describe("operation ids", () => {
  it("follow the method and path as Stripe's do", () => {
    expect(operationIdOf("POST", "/v1/payments/:id/capture")).toBe("PostPaymentsIdCapture");
    expect(operationIdOf("GET", "/v1/webhook-endpoints/{id}/deliveries")).toBe("GetWebhookEndpointsIdDeliveries");
    expect(operationIdOf("delete", "/v1/payer/passkeys/:passkeyId")).toBe("DeletePayerPasskeysPasskeyid");
  });
});

describe("/openapi.json", () => {
  let t: TestPay;
  let doc: Document;
  beforeAll(async () => {
    t = await openTestPay("pglite");
    doc = (await call<Document>(t.app, "GET", "/openapi.json", null)).body;
  });
  afterAll(() => t.close());

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
    );

  it("gives every operation its own operationId", () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(ids.every((id) => typeof id === "string" && /^[A-Z][A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.paths["/v1/payments/{id}/capture"]?.["post"]?.operationId).toBe("PostPaymentsIdCapture");
  });

  it("says which credential each route takes: the secret key by default, the payer's session, or none", () => {
    expect(doc.servers).toEqual([{ url: t.config.publicUrl }]);
    expect(doc.security).toEqual([{ secretKey: [] }]);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["payerSession", "secretKey"]);
    for (const { path, operation } of operations()) {
      if (path.startsWith("/v1/payer/auth/") || path.startsWith("/v1/checkout/") || path.startsWith("/v1/vault/"))
        expect(operation.security, path).toEqual([]);
      else if (path.startsWith("/v1/payer/")) expect(operation.security, path).toEqual([{ payerSession: [] }]);
      else expect(operation.security, path).toBeUndefined();
    }
    expect(operations().some(({ path }) => path.startsWith("/v1/payer/"))).toBe(true);
  });
});
