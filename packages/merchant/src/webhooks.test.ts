/**
 * Webhook verification against deliveries a real pay server sent (its own signing, v1 and v1a), and against
 * `standardwebhooks` as an independent implementation of the standard: accepted when genuine, refused — with the
 * reason and the likely cause — when stale, under a wrong secret, or with a changed body.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { merchantTestPay, TEST_ORIGIN, type MerchantTestPay } from "@mpay/testing/merchant-pay";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MPay } from "./client.ts";
import { verifyWebhook, webhookTestHeaders, WebhookVerificationError } from "./webhooks.ts";

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** The endpoint update, test and rotate-secret routes, once the types come from a server that has them. */
const HAS_ENDPOINT_ROUTES = readFileSync(new URL("./generated/openapi.ts", import.meta.url), "utf8").includes(
  "PostWebhookEndpointsIdRotateSecret",
);

const OTHER_SECRET = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

function failure(run: () => unknown): WebhookVerificationError {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error;
    throw error;
  }
  throw new Error("verified, but should not have");
}

describe("real deliveries from the pay server", () => {
  let t: MerchantTestPay;
  let server: Server;
  const received: Received[] = [];
  let secrets: string[];
  let publicKey: string;

  beforeAll(async () => {
    t = await merchantTestPay();
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    const mpay = new MPay({ secretKey: t.merchant.secretKey, baseUrl: t.baseUrl });
    const endpoint = await mpay.webhookEndpoints.create({ url, signatures: ["v1", "v1a"] });
    publicKey = endpoint.v1aPublicKey ?? "";
    // The endpoint's own secret once the server answers it at creation; the account's until then.
    secrets = [endpoint.secret, t.merchant.webhookSecret].filter((s): s is string => typeof s === "string");
    const payment = await mpay.payments.create({
      amount: 35000,
      currency: "KRW",
      orderId: "hook-1",
      itemName: "Linen shirt",
      returnUrl: `${TEST_ORIGIN}/done`,
      cancelUrl: `${TEST_ORIGIN}/cart`,
    });
    await t.authorize(payment.id);
    for (let i = 0; i < 20 && received.length < 2; i++) await t.deliverWebhooks(1);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.close();
  });

  it("accepts v1 with one of several secrets, typed by event type", () => {
    expect(received.length).toBeGreaterThanOrEqual(2);
    const types = received.map(({ body, headers }) => {
      const event = verifyWebhook(body, headers, [OTHER_SECRET, ...secrets]);
      if (event.type === "payment.captured") expect(event.data.payment.status).toBe("captured");
      return event.type;
    });
    expect(types).toEqual(expect.arrayContaining(["payment.authorized", "payment.captured"]));
  });

  it("accepts v1a with the endpoint's whpk_ key alone, and the body as bytes", () => {
    const [first] = received;
    if (!first) throw new Error("no delivery");
    const bytes = new TextEncoder().encode(first.body);
    expect(verifyWebhook(bytes, first.headers, [], { publicKey }).object).toBe("event");
    const h = new Headers(first.headers as Record<string, string>);
    expect(new MPay({ secretKey: "sk_test_x", baseUrl: t.baseUrl }).webhooks.verify(first.body, h, secrets).id).toMatch(
      /^evt_/,
    );
  });

  it.runIf(HAS_ENDPOINT_ROUTES)(
    "updates, test-sends and rotates an endpoint; both secrets verify during the overlap",
    async () => {
      const mpay = new MPay({ secretKey: t.merchant.secretKey, baseUrl: t.baseUrl });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
      const endpoint = await mpay.webhookEndpoints.create({ url: `${url}-old`, signatures: ["v1"] });
      const oldSecret = endpoint.secret ?? "";
      expect(oldSecret).toMatch(/^whsec_/);
      expect((await mpay.webhookEndpoints.update(endpoint.id, { url })).url).toBe(url);

      const before = received.length;
      const sent = await mpay.webhookEndpoints.test(endpoint.id);
      expect(sent).toMatchObject({ status: "succeeded" });
      const test = received[before];
      if (!test) throw new Error("no test delivery");
      const event = verifyWebhook(test.body, test.headers, oldSecret);
      expect(event.type).toBe("webhook_endpoint.test");

      const rotated = await mpay.webhookEndpoints.rotateSecret(endpoint.id, { expiresInSeconds: 600 });
      expect(rotated.secret).toMatch(/^whsec_/);
      expect(rotated.secret).not.toBe(oldSecret);
      await mpay.webhookEndpoints.test(endpoint.id);
      const overlap = received.at(-1);
      if (!overlap) throw new Error("no test delivery");
      // During the overlap each secret alone verifies, so receivers switch without a gap.
      expect(verifyWebhook(overlap.body, overlap.headers, rotated.secret).id).toMatch(/^evt_/);
      expect(verifyWebhook(overlap.body, overlap.headers, oldSecret).id).toMatch(/^evt_/);
    },
  );

  it("refuses a wrong secret, a changed body, a stale or missing timestamp, and says why", () => {
    const [first] = received;
    if (!first) throw new Error("no delivery");
    const wrong = failure(() => verifyWebhook(first.body, first.headers, OTHER_SECRET));
    expect(wrong.reason).toBe("bad_signature");
    expect(wrong.message).toMatch(/wrong secret \(each endpoint has its own whsec_/);

    const changed = first.body.replace('"amount":35000', '"amount":3500');
    expect(failure(() => verifyWebhook(changed, first.headers, secrets)).reason).toBe("bad_signature");
    expect(failure(() => verifyWebhook(changed, first.headers, [], { publicKey })).reason).toBe("bad_signature");

    const pretty = JSON.stringify(JSON.parse(first.body), null, 2);
    expect(failure(() => verifyWebhook(pretty, first.headers, secrets)).message).toMatch(
      /parsed and re-serialized .* pass the raw body/,
    );
    const parsed = failure(() => verifyWebhook(JSON.parse(first.body) as string, first.headers, secrets));
    expect(parsed.reason).toBe("bad_payload");

    const later = new Date(Date.now() + 10 * 60_000);
    const stale = failure(() => verifyWebhook(first.body, first.headers, secrets, { now: later }));
    expect(stale.reason).toBe("stale_timestamp");
    expect(stale.message).toMatch(/clock skew/);

    const { "webhook-timestamp": _, ...headless } = first.headers;
    const missing = failure(() => verifyWebhook(first.body, headless, secrets));
    expect(missing).toMatchObject({ reason: "missing_headers", code: "missing_headers" });
    expect(missing.message).toContain("webhook-timestamp");
    // No message names a secret.
    for (const error of [wrong, stale, missing]) for (const s of secrets) expect(error.message).not.toContain(s);
  });
});

describe("the standard's own library agrees", () => {
  const payload = JSON.stringify({ id: "evt_1", object: "event", type: "payment.captured", data: { payment: {} } });

  it("headers signed by standardwebhooks verify here", () => {
    const signer = new Webhook(OTHER_SECRET);
    const at = new Date();
    const headers = {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signer.sign("msg_1", at, payload),
    };
    expect(verifyWebhook(payload, headers, OTHER_SECRET).id).toBe("evt_1");
  });

  it("test headers made here verify with standardwebhooks, and stale ones are refused", () => {
    const headers = webhookTestHeaders({ payload, secret: OTHER_SECRET });
    expect(new Webhook(OTHER_SECRET).verify(payload, headers)).toMatchObject({ id: "evt_1" });
    expect(verifyWebhook(payload, headers, OTHER_SECRET).type).toBe("payment.captured");
    const old = webhookTestHeaders({ payload, secret: OTHER_SECRET, timestamp: new Date(Date.now() - 301_000) });
    expect(failure(() => verifyWebhook(payload, old, OTHER_SECRET)).reason).toBe("stale_timestamp");
    expect(verifyWebhook(payload, old, OTHER_SECRET, { toleranceSeconds: 600 }).id).toBe("evt_1");
  });

  it("refuses an API key passed as the secret, saying so", () => {
    const headers = webhookTestHeaders({ payload, secret: OTHER_SECRET });
    expect(() => verifyWebhook(payload, headers, "sk_test_abc")).toThrow(/API key, not a webhook secret/);
  });
});
