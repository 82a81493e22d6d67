/**
 * The HTTP edge every MPay service shares: what happens to a request before a route runs, and how it is logged.
 *
 * Node's HTTP parser refuses some requests before Fastify sees them (headers past 16 KiB, broken chunked
 * framing, Content-Length with Transfer-Encoding, a request line that is not HTTP) and emits `clientError` with
 * the raw socket; Fastify's default answer is its own `{ "error", "message", "statusCode" }` body without a
 * request id, and it logs nothing useful. `clientErrorAnswer` writes the service's own error body instead, as a
 * complete HTTP/1.1 response with `Connection: close`, then closes the socket: after a framing error nothing
 * more on that connection can be trusted. Nothing of the request (its URL, its headers, the bytes the parser
 * choked on) is echoed or logged: a URL can carry an authorization code or a key a client should not have put
 * there. Issue 12 ("a hardened HTTP edge").
 */
import { STATUS_CODES, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** Why Node refused a request before any route: a stable reason each service maps to its own error code. */
export type ClientProblem = "request_malformed" | "headers_too_large" | "request_timeout";

export function clientProblemOf(error: Error & { code?: unknown }): { problem: ClientProblem; status: number } {
  if (error.code === "HPE_HEADER_OVERFLOW") return { problem: "headers_too_large", status: 431 };
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") return { problem: "request_timeout", status: 408 };
  return { problem: "request_malformed", status: 400 };
}

/** HPE_INVALID_EOF_STATE: the parser's word for a client that hung up in the middle of a request. */
const ABORT_CODES = new Set([
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ERR_STREAM_PREMATURE_CLOSE",
  "HPE_INVALID_EOF_STATE",
]);

/**
 * Whether an error only says that the client went away (closed the socket mid-request or mid-answer): routine on
 * the internet, nothing an operator acts on, so it is logged at info without a stack, never as an error.
 */
export function isClientAbort(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && ABORT_CODES.has(code)) return true;
  // Node's "aborted" (a body cut short) and stream's "Premature close" carry these messages.
  return /^(aborted|premature close|socket hang up)$/i.test(error.message);
}

/** The headers of every answer the edge writes itself. */
function answerHeaders(requestId: string): Record<string, string> {
  return {
    "content-type": "application/json; charset=utf-8",
    "request-id": requestId,
    "cache-control": "no-store",
    connection: "close",
  };
}

/** A complete HTTP/1.1 error response, for a socket that no Fastify reply owns. */
export function rawErrorResponse(status: number, body: unknown, requestId: string): string {
  const json = JSON.stringify(body);
  const headers = { ...answerHeaders(requestId), "content-length": String(Buffer.byteLength(json)) };
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    "",
    json,
  ].join("\r\n");
}

/** The little of a logger the edge uses (pino's and Fastify's both fit). */
export interface EdgeLog {
  info(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

export interface ClientErrorAnswerOptions {
  log: EdgeLog;
  /** The service's request ids, so a refused request is quoted to support like any other. */
  newRequestId(): string;
  /** The service's own error body for the problem. */
  body(problem: ClientProblem, requestId: string): unknown;
}

/** How long a refused connection may take to read its answer and hang up before it is cut. */
const LINGER_MS = 2000;

/** Fastify's `clientErrorHandler`: see the file's comment. */
export function clientErrorAnswer(options: ClientErrorAnswerOptions): (error: Error, socket: Socket) => void {
  const answered = new WeakSet<Socket>();
  return (error, socket) => {
    // The parser keeps failing on what the client still sends after the first error: it was answered already.
    if (answered.has(socket)) return;
    const code = (error as { code?: unknown }).code;
    // The client is gone (or closed mid-request): nobody to answer; routine, so debug only.
    if (isClientAbort(error) || socket.destroyed) {
      options.log.debug({ code }, "client closed the connection");
      socket.destroy();
      return;
    }
    const { problem, status } = clientProblemOf(error);
    const requestId = options.newRequestId();
    options.log.info({ requestId, code, status }, "request refused before routing");
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    answered.add(socket);
    // The request whose body broke (bad chunked framing) was already handed to Fastify, and its answer is Node's
    // `_httpMessage` on the socket: our answer goes through it, unless it has started (then nothing can be added
    // to the stream, and the socket is only closed). Fastify's handler then sees the request cut short.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (inFlight) {
      if (inFlight.headersSent) {
        socket.destroy();
        return;
      }
      const body = JSON.stringify(options.body(problem, requestId));
      inFlight.writeHead(status, { ...answerHeaders(requestId), "content-length": Buffer.byteLength(body) });
      inFlight.end(body, () => socket.destroy());
      return;
    }
    // Closing at once, with request bytes still unread (the rest of oversized headers, a body), makes the kernel
    // send a reset that can overtake the answer: so the answer is sent with a FIN, what the client still sends is
    // read and dropped, and the socket is destroyed once the client hangs up or after LINGER_MS.
    socket.end(rawErrorResponse(status, options.body(problem, requestId), requestId));
    socket.on("end", () => socket.destroy());
    socket.resume();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}

const QUERY_REDACTED = "[redacted]";
/** Far past any MPay path; a longer one is cut so that a flood of junk URLs cannot blow up log lines. */
const LOGGED_PATH_MAX = 200;

/** A query parameter's name worth keeping in a log: short and plain (a key pasted as a bare name is neither). */
const PLAIN_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,23}$/;

/**
 * The request's path for a log line with the query string's values replaced (`?limit=[redacted]`): a query can
 * carry an authorization code, a session token or a key. Plain names are kept, so an operator still sees what
 * kind of request it was; a name without a value, or one that is not short and plain, is redacted as well.
 */
export function urlForLog(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const at = url.indexOf("?");
  const path = (at === -1 ? url : url.slice(0, at)).slice(0, LOGGED_PATH_MAX);
  if (at === -1) return path;
  const pairs = url
    .slice(at + 1)
    .split("&")
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const equals = pair.indexOf("=");
      const name = equals === -1 ? "" : pair.slice(0, equals);
      return PLAIN_NAME.test(name) ? `${name}=${QUERY_REDACTED}` : QUERY_REDACTED;
    });
  return `${path}?${pairs.join("&")}`;
}

/** pino's `req` serializer for Fastify's request lines: method, redacted path, host and address, nothing else. */
export function requestForLog(request: { method?: string; url?: string; hostname?: string; ip?: string }) {
  return {
    method: request.method,
    url: urlForLog(request.url),
    host: request.hostname,
    remoteAddress: request.ip,
  };
}

/**
 * Fastify's hooks for a server that is closing: from `preClose` on, a request that still arrives on a kept-alive
 * connection is refused in `onRequest` with the service's own 503 (`refusal`), before any work, and Fastify closes
 * that connection (`Connection: close`), so the client's retry goes to another process. Fastify's own
 * `return503OnClosing` answers in its own body shape: set it to false where these hooks are added.
 */
export function closingGate(refusal: () => Error): { preClose(): Promise<void>; onRequest(): Promise<void> } {
  let closing = false;
  return {
    async preClose() {
      closing = true;
    },
    async onRequest() {
      if (closing) throw refusal();
    },
  };
}
