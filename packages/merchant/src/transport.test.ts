/**
 * Retries against a local server that fails on purpose (issue 10, SDK unit tests): one Idempotency-Key across a
 * POST's retries; retries on 503, 429 (Retry-After), 409 in progress and a dropped connection; none on 400, 401,
 * 404 or a replayed answer; waits that grow and stay under the cap; a timeout per attempt.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MPay } from "./client.ts";
import {
  AuthenticationError,
  ConnectionError,
  InvalidRequestError,
  NotFoundError,
  ServiceUnavailableError,
  ConflictError,
} from "./errors.ts";
import { retryDelayMs, shouldRetry } from "./retry.ts";

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  at: number;
}

type Script = (req: IncomingMessage, res: ServerResponse, n: number) => void;

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let script: Script = (_req, res) => res.end("{}");

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body, at: Date.now() });
      script(req, res, seen.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
afterEach(() => {
  seen = [];
});

const client = (options: { maxRetries?: number; timeoutMs?: number; maxMs?: number } = {}) =>
  new MPay({
    secretKey: "sk_test_retries",
    baseUrl,
    maxRetries: options.maxRetries ?? 2,
    timeoutMs: options.timeoutMs ?? 5_000,
    retryDelay: { initialMs: 5, maxMs: options.maxMs ?? 20 },
  });

function error(res: ServerResponse, status: number, type: string, code: string, message = "nope", extra = {}) {
  res
    .writeHead(status, { "content-type": "application/json", "request-id": `req_${status}`, ...extra })
    .end(JSON.stringify({ error: { type, code, message, requestId: `req_${status}` } }));
}
const payment = (res: ServerResponse) =>
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: "pay_1", object: "payment" }));

describe("retries", () => {
  it("keeps one Idempotency-Key across a POST's retries after 503s, and succeeds", async () => {
    script = (_req, res, n) =>
      n < 3 ? error(res, 503, "service_unavailable_error", "issuer_unavailable") : payment(res);
    const answer = await client().payments.create({ amount: 1, currency: "KRW", orderId: "o", itemName: "i" });
    expect(answer.id).toBe("pay_1");
    expect(seen).toHaveLength(3);
    const keys = seen.map((s) => s.headers["idempotency-key"]);
    expect(keys[0]).toMatch(/^mpay-node-[0-9a-f-]{36}$/);
    expect(new Set(keys).size).toBe(1);
    expect(new Set(seen.map((s) => s.body)).size).toBe(1);
  });

  it("uses the caller's Idempotency-Key, and a new one per call otherwise", async () => {
    script = (_req, res) => payment(res);
    const mpay = client();
    await mpay.payments.capture("pay_1", {}, { idempotencyKey: "order-42-capture" });
    await mpay.payments.cancel("pay_1");
    await mpay.payments.cancel("pay_1");
    expect(seen.map((s) => s.headers["idempotency-key"])[0]).toBe("order-42-capture");
    expect(seen[1]?.headers["idempotency-key"]).not.toBe(seen[2]?.headers["idempotency-key"]);
    // GETs carry none.
    await mpay.payments.retrieve("pay_1");
    expect(seen[3]?.headers["idempotency-key"]).toBeUndefined();
  });

  it("retries a dropped connection with the same key", async () => {
    script = (req, res, n) => (n === 1 ? req.socket.destroy() : payment(res));
    await client().refunds.create("pay_1", { amount: 5 });
    expect(seen).toHaveLength(2);
    expect(seen[0]?.headers["idempotency-key"]).toBe(seen[1]?.headers["idempotency-key"]);
  });

  it("gives up after maxRetries with the last error, typed", async () => {
    script = (_req, res) => error(res, 503, "service_unavailable_error", "vault_sealed");
    const failure = await client({ maxRetries: 1 })
      .payments.retrieve("pay_1")
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ServiceUnavailableError);
    expect(failure).toMatchObject({ code: "vault_sealed", statusCode: 503, requestId: "req_503" });
    expect(seen).toHaveLength(2);
  });

  it.each([
    [400, "invalid_request_error", "parameter_invalid", InvalidRequestError],
    [401, "authentication_error", "api_key_invalid", AuthenticationError],
    [404, "not_found_error", "resource_missing", NotFoundError],
    [409, "conflict_error", "payment_invalid_state", ConflictError],
    [431, "header_too_large_error", "headers_too_large", InvalidRequestError],
  ] as const)("does not retry %i", async (status, type, code, Class) => {
    script = (_req, res) => error(res, status, type, code);
    const failure = await client()
      .payments.capture("pay_1")
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Class);
    expect(failure).toMatchObject({ code, statusCode: status, type });
    expect(seen).toHaveLength(1);
  });

  it("retries a 409 idempotency_key_in_progress, never a key reused for another request, whatever the message", async () => {
    script = (_req, res, n) =>
      n === 1
        ? error(res, 409, "conflict_error", "idempotency_key_in_progress", "The first request has not finished.")
        : payment(res);
    await client().payments.capture("pay_1");
    expect(seen).toHaveLength(2);
    // The same Idempotency-Key on the retry: the server replays the first request's answer, never runs it twice.
    expect(seen[1]?.headers["idempotency-key"]).toBe(seen[0]?.headers["idempotency-key"]);
    seen = [];
    // The message is for people: a reused key that happens to say "still in progress" is still final.
    script = (_req, res) =>
      error(
        res,
        409,
        "conflict_error",
        "idempotency_key_reused",
        "A request with this Idempotency-Key is still in progress; retry shortly.",
      );
    await expect(client().payments.capture("pay_1")).rejects.toMatchObject({
      code: "idempotency_key_reused",
      statusCode: 409,
    });
    expect(seen).toHaveLength(1);
  });

  it("honours Retry-After on 429, within the cap", async () => {
    script = (_req, res, n) =>
      n === 1 ? error(res, 429, "rate_limit_error", "rate_limited", "slow", { "retry-after": "0.2" }) : payment(res);
    await client({ maxMs: 1_000 }).payments.retrieve("pay_1");
    expect(seen).toHaveLength(2);
    expect((seen[1]?.at ?? 0) - (seen[0]?.at ?? 0)).toBeGreaterThanOrEqual(190);
  });

  it("does not retry an answer replayed for the Idempotency-Key: it will never change", async () => {
    script = (_req, res) =>
      error(res, 503, "service_unavailable_error", "issuer_unavailable", "x", { "idempotent-replayed": "true" });
    await expect(client().payments.capture("pay_1")).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(seen).toHaveLength(1);
  });

  it("times out each attempt through an AbortSignal, and says so", async () => {
    script = (_req, res, n) => (n === 1 ? setTimeout(() => payment(res), 3_000) : payment(res));
    await client({ timeoutMs: 1_000 }).payments.capture("pay_1");
    expect(seen).toHaveLength(2);
    script = () => undefined; // never answers
    const failure = await client({ timeoutMs: 50, maxRetries: 0 })
      .payments.retrieve("pay_1")
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ConnectionError);
    expect((failure as Error).message).toMatch(/no answer within 50 ms/);
  });

  it("stops, retries included, when the caller's signal aborts", async () => {
    script = (_req, res) => error(res, 503, "service_unavailable_error", "issuer_unavailable");
    const controller = new AbortController();
    const mpay = new MPay({
      secretKey: "sk_test_x",
      baseUrl,
      maxRetries: 5,
      retryDelay: { initialMs: 200, maxMs: 200 },
    });
    const pending = mpay.payments.retrieve("pay_1", { signal: controller.signal }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(await pending).toBeInstanceOf(ServiceUnavailableError);
    expect(seen).toHaveLength(1);
    const aborted = await mpay.payments.retrieve("pay_1", { signal: controller.signal }).catch((e: unknown) => e);
    expect(aborted).toBeInstanceOf(ConnectionError);
    expect((aborted as Error).message).toMatch(/aborted by the caller/);
  });

  it("waits longer after each failure, never longer than the cap", async () => {
    script = (_req, res) => error(res, 500, "api_error", "internal_error");
    await expect(client({ maxRetries: 5, maxMs: 40 }).payments.retrieve("pay_1")).rejects.toMatchObject({
      statusCode: 500,
    });
    expect(seen).toHaveLength(6);
    const gaps = seen.slice(1).map((s, i) => s.at - (seen[i]?.at ?? 0));
    // Uncapped, the fifth wait would be 80 ms; the exact delays are the retry policy's test below. Here the cap plus a
    // loaded machine's slack, so that the test says the SDK waits between attempts without timing them to the ms.
    expect(gaps.every((gap) => gap >= 2)).toBe(true);
    for (const gap of gaps) expect(gap).toBeLessThan(40 + 500);
  });
});

describe("the retry policy", () => {
  const policy = { maxRetries: 9, initialDelayMs: 500, maxDelayMs: 8_000 };

  it("doubles from the initial delay with equal jitter, capped", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, policy, undefined, () => 1))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000,
    ]);
    expect(retryDelayMs(3, policy, undefined, () => 0)).toBe(1000);
    expect(retryDelayMs(1, policy, 3, () => 0)).toBe(3000);
    expect(retryDelayMs(1, policy, 3600, () => 0)).toBe(8000);
  });

  it("retries what may succeed later, nothing else", () => {
    expect(shouldRetry({ statusCode: undefined })).toBe(true);
    for (const statusCode of [408, 500, 502, 503, 429]) expect(shouldRetry({ statusCode })).toBe(true);
    for (const statusCode of [400, 401, 403, 404, 409, 413, 431]) expect(shouldRetry({ statusCode })).toBe(false);
    expect(shouldRetry({ statusCode: 503, replayed: true })).toBe(false);
  });
});

describe("the client", () => {
  it("refuses a publishable key and never shows the secret key", () => {
    expect(() => new MPay({ secretKey: "pk_test_abc", baseUrl })).toThrow(/publishable key/);
    expect(() => new MPay({ secretKey: "sk_test_abc", baseUrl: "127.0.0.1:4000" })).toThrow(/baseUrl/);
    const mpay = new MPay({ secretKey: "sk_test_very_secret", baseUrl });
    expect(JSON.stringify(mpay)).not.toContain("very_secret");
  });
});
