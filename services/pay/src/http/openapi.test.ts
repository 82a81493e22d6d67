/** /openapi.json names every operation once and says which credential each route takes. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, openTestPay, type TestPay } from "../testing/system.ts";
import { EVENT_TYPES, ERROR_CODES } from "@mpay/protocol";
import { operationIdOf, summaryOf } from "./openapi.ts";

type Json = Record<string, unknown>;
type Operation = {
  operationId?: string;
  summary?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ $ref?: string; name?: string; in?: string }>;
  responses: Record<string, { content?: { "application/json": { schema: Json } } }>;
};
type Document = {
  openapi: string;
  servers: Array<{ url: string }>;
  security: Array<Record<string, string[]>>;
  components: {
    securitySchemes: Record<string, { type: string; scheme: string }>;
    schemas: Record<string, Json>;
    parameters: Record<string, { name: string; in: string }>;
  };
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, { post: { requestBody: { content: { "application/json": { schema: Json } } } } }>;
};

describe("operation ids", () => {
  it("follow the method and path as Stripe's do", () => {
    expect(operationIdOf("POST", "/v1/payments/:id/capture")).toBe("PostPaymentsIdCapture");
    expect(operationIdOf("GET", "/v1/webhook-endpoints/{id}/deliveries")).toBe("GetWebhookEndpointsIdDeliveries");
    expect(operationIdOf("delete", "/v1/payer/passkeys/:passkeyId")).toBe("DeletePayerPasskeysPasskeyid");
  });

  it("and summaries read as Stripe's", () => {
    expect(summaryOf("POST", "/v1/payments")).toBe("Create a payment");
    expect(summaryOf("GET", "/v1/payments")).toBe("List payments");
    expect(summaryOf("GET", "/v1/payments/:id")).toBe("Retrieve a payment");
    expect(summaryOf("POST", "/v1/payments/:id/capture")).toBe("Capture a payment");
    expect(summaryOf("POST", "/v1/payments/:id/refunds")).toBe("Create a refund for a payment");
    expect(summaryOf("GET", "/v1/payments/{id}/refunds")).toBe("List a payment's refunds");
    expect(summaryOf("GET", "/v1/events/:id")).toBe("Retrieve an event");
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

  const refOf = (operation: Operation | undefined, status: string) =>
    operation?.responses[status]?.content?.["application/json"].schema;

  it("is OpenAPI 3.1 with named schemas that the operations refer to", () => {
    expect(doc.openapi).toBe("3.1.0");
    for (const name of ["Payment", "Refund", "Event", "Mandate", "WebhookEndpoint", "Balance", "Account", "Error"])
      expect(doc.components.schemas, name).toHaveProperty(name);
    // No 3.0 `nullable` anywhere: 3.1 says null as a type.
    expect(JSON.stringify(doc)).not.toContain('"nullable"');
    const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
    expect(refOf(doc.paths["/v1/payments"]?.["post"], "200")).toEqual(ref("Payment"));
    expect(refOf(doc.paths["/v1/payments/{id}"]?.["get"], "200")).toEqual(ref("Payment"));
    expect(refOf(doc.paths["/v1/refunds/{id}"]?.["get"], "200")).toEqual(ref("Refund"));
    expect(refOf(doc.paths["/v1/events/{id}"]?.["get"], "200")).toEqual(ref("Event"));
    expect(refOf(doc.paths["/v1/mandates/{id}"]?.["get"], "200")).toEqual(ref("Mandate"));
    expect(refOf(doc.paths["/v1/webhook-endpoints/{id}"]?.["get"], "200")).toEqual(ref("WebhookEndpoint"));
    expect(refOf(doc.paths["/v1/webhook-endpoints"]?.["post"], "200")).toEqual(ref("WebhookEndpointWithSecret"));
    expect(refOf(doc.paths["/v1/account"]?.["get"], "200")).toEqual(ref("Account"));
    const list = refOf(doc.paths["/v1/payments"]?.["get"], "200") as { properties: { data: { items: Json } } };
    expect(list.properties.data.items).toEqual(ref("Payment"));
    const balances = refOf(doc.paths["/v1/balances"]?.["get"], "200") as { properties: { data: { items: Json } } };
    expect(balances.properties.data.items).toEqual(ref("Balance"));
    // Error: its code is the enum of every stable code, its type the enum of types.
    const error = doc.components.schemas["Error"] as {
      properties: { error: { properties: { code: { enum: string[] }; type: { enum: string[] } } } };
    };
    expect(error.properties.error.properties.code.enum).toEqual(Object.keys(ERROR_CODES));
    expect(error.properties.error.properties.type.enum).toContain("permission_error");
    // Only what something refers to: no unused `PaymentInput` twin.
    expect(Object.keys(doc.components.schemas).filter((n) => n.endsWith("Input"))).toEqual([]);
  });

  it("gives every operation a summary, every POST the Idempotency-Key, and the error statuses it answers", () => {
    expect(doc.components.parameters["IdempotencyKey"]).toMatchObject({ name: "Idempotency-Key", in: "header" });
    for (const { path, method, operation } of operations()) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(operation.summary, where).toMatch(/^[A-Z]/);
      const idempotency = (operation.parameters ?? []).filter(
        (p) => p.$ref === "#/components/parameters/IdempotencyKey",
      );
      expect(idempotency, where).toHaveLength(method === "post" ? 1 : 0);
      expect(operation.responses, where).toHaveProperty("431");
      expect(operation.responses, where).toHaveProperty("429");
      if (operation.security === undefined) {
        for (const status of ["401", "403"])
          expect(refOf(operation, status), `${where} ${status}`).toEqual({ $ref: "#/components/schemas/Error" });
        if (method === "post")
          for (const status of ["409", "413"]) expect(operation.responses, where).toHaveProperty(status);
        if (method === "get") expect(operation.responses, where).not.toHaveProperty("409");
        if (path.includes("{")) expect(operation.responses, where).toHaveProperty("404");
        else expect(operation.responses, where).not.toHaveProperty("404");
      }
    }
  });

  it("describes every webhook MPay sends as an OpenAPI 3.1 webhook with its payload", () => {
    expect(Object.keys(doc.webhooks).sort()).toEqual([...EVENT_TYPES, "webhook_endpoint.test"].sort());
    const body = (type: string) => doc.webhooks[type]?.post.requestBody.content["application/json"].schema;
    expect(body("payment.captured")).toEqual({ $ref: "#/components/schemas/PaymentEvent" });
    expect(body("refund.succeeded")).toEqual({ $ref: "#/components/schemas/RefundEvent" });
    expect(body("mandate.revoked")).toEqual({ $ref: "#/components/schemas/MandateEvent" });
    const refund = doc.components.schemas["RefundEvent"] as { properties: { data: { properties: Json } } };
    expect(refund.properties.data.properties["refund"]).toEqual({ $ref: "#/components/schemas/Refund" });
  });

  it("answers a path parameter past Fastify's limit as an MPay error, not Fastify's 414", async () => {
    const long = await call<{ error: { code: string } }>(
      t.app,
      "GET",
      `/v1/payments/pay_${"A".repeat(300)}`,
      t.merchant.secretKey,
    );
    expect([long.status, long.body.error.code]).toEqual([400, "parameter_invalid"]);
  });
});
