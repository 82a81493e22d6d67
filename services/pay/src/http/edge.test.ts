/**
 * The HTTP edge over a real socket (issue 12): every refusal, including those Node's parser makes before Fastify
 * sees a request, is MPay's `{ error: { type, code, message, requestId } }` with a request id, never repeats the
 * URL, and says `Connection: close` when the server closes. HEAD answers have no body; logs carry no query
 * string; a client that hangs up is not an error. bad-input.test.ts covers body and parameter validation.
 */
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemBackends } from "../testing/databases.ts";
import { openTestPay, paymentBody, type TestPay } from "../testing/system.ts";
import {
  abortMidBody,
  headThenGet,
  parserRefusals,
  parseRawAnswer,
  rawExchange,
  rawRequest as request,
  type RawAnswer,
} from "@mpay/testing/raw-http";

type ErrorAnswer = { error: { type: string; code: string; message: string; requestId?: string } };

/** What every refusal holds: the status, MPay's shape with the stable code, a request id, and no echo. */
function expectRefusal(answer: RawAnswer, status: number, code: string, echoes: string[] = []): ErrorAnswer {
  expect(answer.status).toBe(status);
  expect(answer.headers["content-type"]).toMatch(/^application\/json/);
  const body = JSON.parse(answer.body) as ErrorAnswer;
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toBe(code);
  expect(body.error.type).toMatch(/_error$/);
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(body.error.requestId).toMatch(/^req_/);
  expect(answer.headers["request-id"]).toBe(body.error.requestId);
  for (const echo of echoes) expect(answer.bytes).not.toContain(echo);
  expect(answer.bytes).not.toMatch(/at \w+ \(|node_modules|stack|FST_|HPE_/i);
  return body;
}

describe.each(systemBackends())("HTTP edge [%s]", (backend) => {
  let t: TestPay;
  let port: number;
  let auth: string;

  beforeAll(async () => {
    t = await openTestPay(backend);
    await t.app.listen({ host: "127.0.0.1", port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
    auth = `Authorization: Bearer ${t.merchant.secretKey}`;
  });
  afterAll(() => t.close());

  describe("before a route runs", () => {
    it("answers bad percent-encoding in the path with 400 parameter_invalid", async () => {
      const answer = await rawExchange(port, request("GET /v1/payments/%E0%A4%A HTTP/1.1", [auth]));
      expectRefusal(answer, 400, "parameter_invalid", ["%E0", "E0%A4", "%A4%A"]);
    });

    it("answers bad percent-encoding in the query with 400 parameter_invalid", async () => {
      const answer = await rawExchange(port, request("GET /v1/payments?status=%E0%A4%A HTTP/1.1", [auth]));
      expectRefusal(answer, 400, "parameter_invalid", ["%E0", "E0%A4", "\u00e0"]);
    });

    it("answers a 150-character path parameter with 400 parameter_invalid, never 414", async () => {
      const id = `pay_${"Z".repeat(150)}`;
      const answer = await rawExchange(port, request(`GET /v1/payments/${id} HTTP/1.1`, [auth]));
      expectRefusal(answer, 400, "parameter_invalid", ["ZZZZZZZZ"]);
    });

    it("answers an unknown route with 404 route_not_found without repeating it", async () => {
      const answer = await rawExchange(port, request("GET /v1/nothing-here-qx?token=secret-qx HTTP/1.1", [auth]));
      expectRefusal(answer, 404, "route_not_found", ["nothing-here-qx", "secret-qx", "token"]);
    });

    it("answers an unsupported method on a known path with 404 route_not_found", async () => {
      expectRefusal(await rawExchange(port, request("DELETE /v1/payments HTTP/1.1", [auth])), 404, "route_not_found");
      expectRefusal(await rawExchange(port, request("PROPFIND /v1/payments HTTP/1.1", [auth])), 404, "route_not_found");
    });

    it("answers a body that is not JSON, or not sent as JSON, in MPay's shape", async () => {
      const post = (contentType: string, body: string) =>
        rawExchange(
          port,
          request(
            "POST /v1/payments HTTP/1.1",
            [
              auth,
              `Content-Type: ${contentType}`,
              `Content-Length: ${Buffer.byteLength(body)}`,
              "Idempotency-Key: edge-body",
            ],
            body,
          ),
        );
      expectRefusal(await post("application/json", '{"amount": 1,'), 400, "body_invalid_json");
      expectRefusal(await post("text/plain", JSON.stringify(paymentBody())), 400, "parameter_invalid");
    });

    it("answers a body past 16 KiB with 413 body_too_large and closes the connection", async () => {
      const body = JSON.stringify(paymentBody({ itemName: "x".repeat(20_000) }));
      const answer = await rawExchange(
        port,
        request(
          "POST /v1/payments HTTP/1.1",
          [auth, "Content-Type: application/json", `Content-Length: ${body.length}`, "Idempotency-Key: edge-413"],
          body,
        ),
      );
      expectRefusal(answer, 413, "body_too_large");
      expect(answer.headers["connection"]).toBe("close");
      expect(answer.closed).toBe(true);
    });
  });

  describe("refused by Node's HTTP parser (clientError)", () => {
    // No Authorization: the parser refuses these before any route or authentication runs.
    it.each(parserRefusals("/v1/payments"))(
      "$name → $status $problem, Connection: close",
      async ({ raw, status, problem: code }) => {
        const answer = await rawExchange(port, raw);
        expectRefusal(answer, status, code, ["-qx", "code=", "/v1/payments", t.merchant.secretKey]);
        expect(answer.headers["connection"]).toBe("close");
        expect(answer.closed).toBe(true);
      },
    );
  });

  describe("HEAD", () => {
    it("answers HEAD of a GET route, an unknown route and a refused one without a body", async () => {
      // Pipelined: the GET's answer must start right where the HEAD's headers end.
      for (const [path, status] of [
        ["/healthz", 200],
        ["/no-such-route", 404],
        ["/v1/payer/me", 401],
        ["/v1/payments", 401],
      ] as const) {
        const { head, afterHeaders } = await headThenGet(port, path, "/healthz");
        expect(head.status, path).toBe(status);
        expect(head.body).toBe("");
        expect(head.headers["request-id"]).toMatch(/^req_/);
        expect(afterHeaders.startsWith("HTTP/1.1 200"), path).toBe(true);
      }
    });
  });

  describe("logs", () => {
    it("log a request's query string with its values replaced", async () => {
      const before = t.logLines.length;
      await rawExchange(port, request("GET /v1/payments?limit=7&cursor=cur-secret-qx HTTP/1.1", [auth]));
      const lines = t.logLines.slice(before).join("\n");
      expect(lines).toContain('"url":"/v1/payments?limit=[redacted]&cursor=[redacted]"');
      expect(lines).not.toContain("cur-secret-qx");
      expect(lines).not.toContain("limit=7");
    });

    it("log a client that hangs up mid-body at info, without a stack", async () => {
      const before = t.logLines.length;
      await abortMidBody(port, "POST /v1/payments HTTP/1.1", [auth, "Idempotency-Key: edge-abort"]);
      await expect.poll(() => t.logLines.slice(before).some((line) => line.includes("client closed"))).toBe(true);
      const lines = t.logLines.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
      const aborted = lines.find((line) => String(line["msg"]).includes("client closed"));
      expect(aborted?.["level"]).toBeLessThanOrEqual(30);
      expect(JSON.stringify(aborted)).not.toMatch(/stack|at \w+ \(/);
      expect(lines.filter((line) => Number(line["level"]) >= 50)).toEqual([]);
    });
  });
});

describe.each(systemBackends())("HTTP edge while the server stops [%s]", (backend) => {
  let t: TestPay;
  beforeAll(async () => {
    t = await openTestPay(backend);
    await t.app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(() => t.close());

  it("answers a request that arrives on a kept-alive connection with 503 server_shutting_down, Connection: close", async () => {
    const port = (t.app.server.address() as AddressInfo).port;
    const socket = connect(port, "127.0.0.1");
    let bytes = "";
    socket.on("data", (chunk: Buffer) => void (bytes += chunk.toString("latin1")));
    const ended = new Promise((resolve) => socket.once("close", resolve));
    await new Promise((resolve) => socket.once("connect", resolve));
    // A request in progress keeps the connection busy, so closing does not cut it as idle.
    const headers = [`Authorization: Bearer ${t.merchant.secretKey}`, "Content-Type: application/json"];
    socket.write(request("POST /v1/payments HTTP/1.1", [...headers, "Content-Length: 12", "Idempotency-Key: k1"], "{"));
    await expect.poll(() => t.logLines.some((line) => line.includes("incoming request"))).toBe(true);
    const closed = t.close();
    socket.write('"amount":1}' + request("GET /v1/payments?code=late-qx HTTP/1.1", headers));
    await ended;
    await closed;
    const second = bytes.lastIndexOf("HTTP/1.1 ");
    expect(second).toBeGreaterThan(0);
    const answer = parseRawAnswer(bytes.slice(second), true);
    if (!answer) throw new Error("no second answer");
    expectRefusal(answer, 503, "server_shutting_down", ["late-qx"]);
    expect(answer.headers["connection"]).toBe("close");
  });
});
