/**
 * The issuer host's HTTP edge over a real socket (issue 12, service-kit's http/edge.ts): what Node's parser refuses
 * is answered in the issuer's `{ error: { code, message } }` with a request id and `Connection: close`; no answer
 * repeats the URL; HEAD answers have no body; a client that hangs up is logged at info without a stack; a request
 * that arrives while the host stops gets the issuer's 503.
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
import { openTestHost, testBackends, type TestHost } from "../testing/host.ts";

/** The refusal's status, the issuer's shape and code, a request id, and nothing of the request. */
function expectRefusal(answer: RawAnswer, status: number, code: string, echoes: string[] = []): void {
  const body = expectRefusalAnswer(answer, status, echoes) as { error: { code: string; message: string } };
  expect(Object.keys(body.error).sort()).toEqual(["code", "message"]);
  expect(body.error.code).toBe(code);
  expect(answer.headers["request-id"]).toMatch(/^[0-9a-f-]{36}$/);
}

const portOf = (host: TestHost) => (host.server.app.server.address() as AddressInfo).port;

describe.each(testBackends())("issuer host's HTTP edge [%s]", (backend) => {
  let host: TestHost;
  let port: number;
  let acquirer: string;
  beforeAll(async () => {
    host = await openTestHost(backend);
    port = portOf(host);
    acquirer = `Authorization: Bearer ${host.acquirerSecret}`;
  });
  let closed = false;
  afterAll(async () => {
    if (!closed) await host.close();
  });

  it.each(parserRefusals("/issuers/sampo/enrollments"))(
    "answers $name with $status request_invalid and closes",
    ({ raw, status }) =>
      expectRefusedAndClosed(port, raw, (answer) =>
        expectRefusal(answer, status, "request_invalid", ["-qx", "code=", "/issuers", "sampo"]),
      ),
  );

  it("answers an unknown route and a URL that does not decode without repeating them", async () => {
    const missing = await rawExchange(port, rawRequest("GET /issuers-nothing-qx?token=secret-qx HTTP/1.1"));
    expectRefusal(missing, 404, "route_not_found", ["nothing-qx", "secret-qx", "token", "GET"]);
    const undecodable = await rawExchange(
      port,
      rawRequest("GET /issuers/%E0%A4%A/settlements/2026-12-04 HTTP/1.1", [acquirer]),
    );
    expectRefusal(undecodable, 400, "request_invalid", ["%E0", "%A4%A"]);
  });

  it("answers HEAD without a body: a route, an unknown one, one refused for its credential", async () => {
    await expectHeadsWithoutBody(port, [
      ["/healthz", 200],
      ["/no-such-route", 404],
      ["/issuers/sampo/settlements/2026-12-04", 401],
    ]);
  });

  it("logs a client that hangs up mid-body at info, without a stack, and no error", async () => {
    await expectQuietAbort(port, host.logLines, "POST /issuers/sampo/enrollments?code=abort-qx HTTP/1.1", [acquirer]);
  });

  // Last: it stops the host.
  it("answers a request on a kept-alive connection with 503 temporarily_unavailable, Connection: close", async () => {
    const headers = [`Authorization: Bearer ${host.acquirerSecret}`, "Content-Type: application/json"];
    const answer = await answerWhileClosing(
      port,
      {
        opening: rawRequest("POST /issuers/sampo/enrollments HTTP/1.1", [...headers, "Content-Length: 2"], "{"),
        rest: "}",
        next: rawRequest("GET /issuers/sampo/settlements/2026-12-04?code=late-qx HTTP/1.1", headers),
      },
      async () => {
        closed = true;
        await host.close();
      },
    );
    expectRefusal(answer, 503, "temporarily_unavailable", ["late-qx"]);
    expect(answer.headers["connection"]).toBe("close");
  });
});
