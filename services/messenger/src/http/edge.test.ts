/**
 * The messenger's HTTP edge over a real socket (issue 12, service-kit's http/edge.ts): what Node's parser refuses
 * is answered in the API's `{ error: { type, code, message, requestId } }` with `Connection: close` (the OpenID
 * provider's paths included: the parser runs before the split); no answer repeats the URL; HEAD answers have no
 * body; a client that hangs up is logged at info without a stack; a request that arrives while the messenger
 * stops gets its 503.
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectHeadsWithoutBody,
  expectQuietAbort,
  expectRefusalAnswer,
  expectRefusedAndClosed,
} from "@mpay/testing/edge-checks";
import { answerWhileClosing, parserRefusals, rawExchange, rawRequest, type RawAnswer } from "@mpay/testing/raw-http";
import { testBackends } from "../testing/databases.ts";
import { openTestMessenger, type TestMessenger } from "../testing/messenger.ts";

/** The refusal's status, the API's shape and code, a request id, and nothing of the request. */
function expectRefusal(answer: RawAnswer, status: number, code: string, echoes: string[] = []): void {
  const body = expectRefusalAnswer(answer, status, echoes) as {
    error: { type: string; code: string; message: string; requestId: string };
  };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toBe(code);
  expect(body.error.type).toMatch(/_error$/);
  expect(body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
}

const portOf = (messenger: TestMessenger) => (messenger.server.app.server.address() as AddressInfo).port;

describe.each(testBackends())("messenger's HTTP edge [%s]", (backend) => {
  let messenger: TestMessenger;
  let port: number;
  beforeAll(async () => {
    messenger = await openTestMessenger(backend);
    port = portOf(messenger);
  });
  let closed = false;
  afterAll(async () => {
    if (!closed) await messenger.close();
  });

  it.each([...parserRefusals("/api/sessions"), ...parserRefusals("/oidc/token").slice(0, 1)])(
    "answers $name with $status $problem and closes",
    ({ raw, status, problem }) =>
      expectRefusedAndClosed(port, raw, (answer) =>
        expectRefusal(answer, status, problem, ["-qx", "code=", "/api/sessions", "/oidc"]),
      ),
  );

  it("answers an unknown API route and a URL that does not decode without repeating them", async () => {
    const missing = await rawExchange(port, rawRequest("GET /api/nothing-here-qx?token=secret-qx HTTP/1.1"));
    expectRefusal(missing, 404, "route_not_found", ["nothing-here-qx", "secret-qx", "token"]);
    const undecodable = await rawExchange(port, rawRequest("GET /api/chats/%E0%A4%A/messages HTTP/1.1"));
    expect(undecodable.status).toBe(400);
    expect(undecodable.bytes).not.toMatch(/%E0|%A4%A|FST_/);
  });

  it("answers HEAD without a body: a route, an unknown one, one refused for its session", async () => {
    await expectHeadsWithoutBody(port, [
      ["/healthz", 200],
      ["/api/no-such-route", 404],
      ["/api/me", 401],
    ]);
  });

  it("logs a client that hangs up mid-body at info, without a stack, and a query's values redacted", async () => {
    const lines = await expectQuietAbort(port, messenger.logLines, "POST /api/sessions?code=abort-qx HTTP/1.1");
    expect(JSON.stringify(lines)).toContain('"url":"/api/sessions?code=[redacted]"');
  });

  // Last: it stops the messenger.
  it("answers a request on a kept-alive connection with 503 server_shutting_down, Connection: close", async () => {
    const json = "Content-Type: application/json";
    const answer = await answerWhileClosing(
      port,
      {
        opening: rawRequest("POST /api/sessions HTTP/1.1", [json, "Content-Length: 2"], "{"),
        rest: "}",
        next: rawRequest("GET /api/me?code=late-qx HTTP/1.1"),
      },
      async () => {
        closed = true;
        await messenger.close();
      },
    );
    expectRefusal(answer, 503, "server_shutting_down", ["late-qx"]);
    expect(answer.headers["connection"]).toBe("close");
  });
});
