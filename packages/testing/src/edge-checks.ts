/**
 * The assertions every service's edge test makes over raw-http.ts whatever its error body (issue 12): a refusal
 * is JSON and repeats nothing of the request, a refusal of the parser closes the connection, HEAD has no body, a
 * client that hangs up is no error. Each service checks its own body's shape in a callback.
 */
import { expect } from "vitest";
import { abortMidBody, headThenGet, rawExchange, type RawAnswer } from "./raw-http.ts";

/**
 * The refusal's status, a JSON body (returned parsed, for the service's own checks of its shape), none of `echoes`
 * anywhere in what the server sent, and no stack or Fastify/Node parser code.
 */
export function expectRefusalAnswer(answer: RawAnswer, status: number, echoes: string[] = []): unknown {
  expect(answer.status).toBe(status);
  expect(answer.headers["content-type"]).toMatch(/^application\/json/);
  for (const echo of echoes) expect(answer.bytes).not.toContain(echo);
  expect(answer.bytes).not.toMatch(/at \w+ \(|node_modules|stack|FST_|HPE_/i);
  return JSON.parse(answer.body);
}

/** Sends `raw` (one of parserRefusals()), checks the answer with `check`, and that the server closed the connection. */
export async function expectRefusedAndClosed(
  port: number,
  raw: string,
  check: (answer: RawAnswer) => void,
): Promise<void> {
  const answer = await rawExchange(port, raw);
  check(answer);
  expect(answer.headers["connection"]).toBe("close");
  expect(answer.closed).toBe(true);
}

/**
 * HEAD of each path answers its status without a body: the GET of `/healthz` pipelined behind it answers 200 right
 * where the HEAD's headers end.
 */
export async function expectHeadsWithoutBody(
  port: number,
  statusByPath: ReadonlyArray<readonly [path: string, status: number]>,
): Promise<void> {
  for (const [path, status] of statusByPath) {
    const { head, afterHeaders } = await headThenGet(port, path, "/healthz");
    expect(head.status, path).toBe(status);
    expect(head.body).toBe("");
    expect(afterHeaders.startsWith("HTTP/1.1 200"), path).toBe(true);
  }
}

/**
 * A client hangs up mid-body on `line`, which carries the marker `abort-qx` in its query: the service logs it at
 * info as "client closed", with no stack and no error line, and no line shows the marker. Returns the lines it
 * logged meanwhile (parsed), for the service's own checks.
 */
export async function expectQuietAbort(
  port: number,
  logLines: readonly string[],
  line: string,
  headers: string[] = [],
): Promise<Array<Record<string, unknown>>> {
  expect(line).toContain("abort-qx");
  const before = logLines.length;
  await abortMidBody(port, line, headers);
  await expect.poll(() => logLines.slice(before).some((logged) => logged.includes("client closed"))).toBe(true);
  const lines = logLines.slice(before).map((logged) => JSON.parse(logged) as Record<string, unknown>);
  const aborted = lines.find((logged) => String(logged["msg"]).includes("client closed"));
  expect(aborted?.["level"]).toBeLessThanOrEqual(30);
  expect(JSON.stringify(lines)).not.toMatch(/stack|at \w+ \(|abort-qx/);
  expect(lines.filter((logged) => Number(logged["level"]) >= 50)).toEqual([]);
  return lines;
}
