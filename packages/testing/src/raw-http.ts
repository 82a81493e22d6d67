/**
 * A raw HTTP/1.1 exchange over node:net, for every service's edge tests (service-kit's http/edge.ts, issue 12):
 * what a browser or `fetch` would never send (broken framing, bad percent-encoding, oversized headers) and what
 * they would hide (the exact bytes of a HEAD answer, whether the server closed the connection).
 */
import { connect, type Socket } from "node:net";

export interface RawAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent on the connection, answers after the first included. */
  bytes: string;
  /** The server closed the connection (within a second of the answer). */
  closed: boolean;
}

/** Splits one answer off the front of `data`: null while it is incomplete. A HEAD answer has no body. */
function parseAnswer(
  data: string,
  head: boolean,
): { answer: Omit<RawAnswer, "bytes" | "closed">; rest: string } | null {
  const end = data.indexOf("\r\n\r\n");
  if (end === -1) return null;
  const [statusLine = "", ...lines] = data.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = head ? 0 : Number(headers["content-length"] ?? 0);
  const bodyStart = end + 4;
  // `data` is read as latin1: one character per byte, so lengths are byte counts.
  if (data.length - bodyStart < length) return null;
  const body = Buffer.from(data.slice(bodyStart, bodyStart + length), "latin1").toString("utf8");
  return {
    answer: { status: Number(statusLine.split(" ")[1]), headers, body },
    rest: data.slice(bodyStart + length),
  };
}

/** The first answer in `bytes` (what a connection received, read as latin1), with `closed` as given. */
export function parseRawAnswer(bytes: string, closed: boolean): RawAnswer | null {
  const parsed = parseAnswer(bytes, false);
  return parsed ? { ...parsed.answer, bytes, closed } : null;
}

export interface ExchangeOptions {
  /** The first request is a HEAD: its answer has no body even when Content-Length says otherwise. */
  head?: boolean;
}

/** Sends `request` as is and reads the first answer; `bytes` keeps what followed it. */
export function rawExchange(port: number, request: string, options: ExchangeOptions = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, "127.0.0.1");
    let data = "";
    let closed = false;
    let parsed: ReturnType<typeof parseAnswer> = null;
    const timer = setTimeout(() => finish(), 3000);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      if (!parsed) parsed = parseAnswer(data, options.head ?? false);
      if (!parsed) reject(new Error(`no complete answer: ${JSON.stringify(data.slice(0, 200))}`));
      else resolve({ ...parsed.answer, bytes: data, closed });
    };
    socket.on("data", (chunk: Buffer) => {
      data += chunk.toString("latin1");
      parsed = parseAnswer(data, options.head ?? false);
      // A kept-alive connection stays open: wait a moment for anything after the answer (a HEAD body must not come).
      if (parsed && parsed.answer.headers["connection"] !== "close") {
        clearTimeout(timer);
        setTimeout(finish, 150);
      }
    });
    socket.on("end", () => {
      closed = true;
      finish();
    });
    socket.on("error", () => finish());
    socket.write(request, "latin1");
  });
}

/** One request's bytes: the request line, `Host`, the headers given, a blank line and the body. */
export function rawRequest(line: string, headers: string[] = [], body = ""): string {
  return [line, "Host: 127.0.0.1", ...headers, "", body].join("\r\n");
}

/** A request Node's HTTP parser refuses before any route runs, and what service-kit's edge answers it with. */
export interface ParserRefusal {
  name: string;
  raw: string;
  status: number;
  /** service-kit's ClientProblem: each service maps it to its own code. */
  problem: "request_malformed" | "headers_too_large";
}

/**
 * The requests Node's parser refuses, aimed at `path` with `?code=<marker>-qx` in the URL: an answer must repeat
 * none of `-qx`, `code=` or the path. No Authorization: they are refused before any route or authentication.
 */
export function parserRefusals(path: string): ParserRefusal[] {
  return [
    {
      name: "headers past 16 KiB",
      raw: rawRequest(`GET ${path}?code=oversized-qx HTTP/1.1`, [`X-Filler: ${"f".repeat(20_000)}`]),
      status: 431,
      problem: "headers_too_large",
    },
    {
      name: "a broken chunked body",
      raw: rawRequest(`POST ${path}?code=chunked-qx HTTP/1.1`, ["Transfer-Encoding: chunked"], "ZZ\r\nnot a chunk\r\n"),
      status: 400,
      problem: "request_malformed",
    },
    {
      name: "Content-Length with Transfer-Encoding",
      raw: rawRequest(
        `POST ${path}?code=smuggle-qx HTTP/1.1`,
        ["Content-Length: 5", "Transfer-Encoding: chunked"],
        "0\r\n\r\n",
      ),
      status: 400,
      problem: "request_malformed",
    },
    {
      name: "a garbage request line",
      raw: `GET ${path}?code=garbage-qx HTTQ/1.1\r\n\r\n`,
      status: 400,
      problem: "request_malformed",
    },
    {
      name: "a method Node does not know",
      raw: rawRequest(`BREW ${path}?code=method-qx HTTP/1.1`),
      status: 400,
      problem: "request_malformed",
    },
  ];
}

/**
 * HEAD `path`, with a GET of `followingPath` pipelined behind it on the same connection: the HEAD's answer has no
 * body exactly when the GET's status line starts right where the HEAD's headers end. Returns the HEAD's answer and
 * what followed its headers.
 */
export async function headThenGet(
  port: number,
  path: string,
  followingPath: string,
  headers: string[] = [],
): Promise<{ head: RawAnswer; afterHeaders: string }> {
  const head = await rawExchange(
    port,
    rawRequest(`HEAD ${path} HTTP/1.1`, headers) + rawRequest(`GET ${followingPath} HTTP/1.1`, ["Connection: close"]),
    { head: true },
  );
  return { head, afterHeaders: head.bytes.slice(head.bytes.indexOf("\r\n\r\n") + 4) };
}

/**
 * Starts a request with a body that never completes, then hangs up: the server sees a client abort. Resolves once
 * the socket is closed.
 */
export async function abortMidBody(port: number, line: string, headers: string[] = []): Promise<void> {
  const socket = connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(rawRequest(line, ["Content-Type: application/json", "Content-Length: 1000", ...headers], '{"amount":'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.destroy();
}

/**
 * What a request gets when it arrives on a kept-alive connection while the server closes: `opening` (a request
 * whose body is still incomplete) keeps the connection busy, `close()` starts, then the body's `rest` and `next`
 * follow on the same connection. Resolves with the answer to `next` once the server closed the connection and
 * `close()` finished.
 */
export async function answerWhileClosing(
  port: number,
  exchange: { opening: string; rest: string; next: string },
  close: () => Promise<void>,
): Promise<RawAnswer> {
  const socket = connect(port, "127.0.0.1");
  let bytes = "";
  socket.on("data", (chunk: Buffer) => void (bytes += chunk.toString("latin1")));
  const ended = new Promise((resolve) => socket.once("close", resolve));
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(exchange.opening);
  // The headers reach the route (the request is in flight) long before this.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const closed = close();
  socket.write(exchange.rest + exchange.next);
  await ended;
  await closed;
  const second = bytes.lastIndexOf("HTTP/1.1 ");
  const answer = second > 0 ? parseRawAnswer(bytes.slice(second), true) : null;
  if (!answer) throw new Error(`no second answer: ${JSON.stringify(bytes.slice(0, 300))}`);
  return answer;
}
