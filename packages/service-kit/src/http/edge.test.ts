import { describe, expect, it } from "vitest";
import { clientProblemOf, isClientAbort, rawErrorResponse, requestForLog, urlForLog } from "./edge.ts";

const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });

describe("the HTTP edge", () => {
  it("logs a URL with its query values replaced, and odd names redacted too", () => {
    expect(urlForLog("/v1/payments")).toBe("/v1/payments");
    expect(urlForLog("/v1/payments?limit=5&cursor=abc")).toBe("/v1/payments?limit=[redacted]&cursor=[redacted]");
    expect(urlForLog("/cb?code=ac_secret&state=st_secret")).toBe("/cb?code=[redacted]&state=[redacted]");
    // A key pasted as a bare name, or as a long name, is not a parameter name worth keeping.
    expect(urlForLog(`/v1/x?sk_test_${"A".repeat(32)}`)).toBe("/v1/x?[redacted]");
    expect(urlForLog(`/v1/x?sk_test_${"A".repeat(32)}=1`)).toBe("/v1/x?[redacted]");
    expect(urlForLog(`/${"p".repeat(500)}`)).toHaveLength(200);
    expect(requestForLog({ method: "GET", url: "/a?token=t0ken", ip: "127.0.0.1" })).toEqual({
      method: "GET",
      url: "/a?token=[redacted]",
      host: undefined,
      remoteAddress: "127.0.0.1",
    });
  });

  it("tells a client that hung up from a real failure", () => {
    expect(isClientAbort(withCode("ECONNRESET", "aborted"))).toBe(true);
    expect(isClientAbort(withCode("ERR_STREAM_PREMATURE_CLOSE", "Premature close"))).toBe(true);
    expect(isClientAbort(withCode("HPE_INVALID_EOF_STATE"))).toBe(true);
    expect(isClientAbort(new Error("premature close"))).toBe(true);
    expect(isClientAbort(withCode("HPE_INVALID_CHUNK_SIZE"))).toBe(false);
    expect(isClientAbort(new Error("relation does not exist"))).toBe(false);
    expect(isClientAbort("ECONNRESET")).toBe(false);
  });

  it("maps the parser's refusals to a status and a stable reason", () => {
    expect(clientProblemOf(withCode("HPE_HEADER_OVERFLOW"))).toEqual({ problem: "headers_too_large", status: 431 });
    expect(clientProblemOf(withCode("ERR_HTTP_REQUEST_TIMEOUT"))).toEqual({ problem: "request_timeout", status: 408 });
    expect(clientProblemOf(withCode("HPE_UNEXPECTED_CONTENT_LENGTH"))).toEqual({
      problem: "request_malformed",
      status: 400,
    });
  });

  it("writes a complete response that closes the connection, its length in bytes", () => {
    const raw = rawErrorResponse(400, { error: { message: "é" } }, "req_1");
    const [head = "", body] = raw.split("\r\n\r\n");
    expect(head.split("\r\n")[0]).toBe("HTTP/1.1 400 Bad Request");
    expect(head).toContain("connection: close");
    expect(head).toContain("request-id: req_1");
    expect(head).toContain(`content-length: ${Buffer.byteLength(body ?? "")}`);
    expect(JSON.parse(body ?? "")).toEqual({ error: { message: "é" } });
  });
});
