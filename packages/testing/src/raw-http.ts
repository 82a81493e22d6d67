/**
 * A raw HTTP/1.1 exchange over node:net, for the edge tests: what a browser or `fetch` would never send (broken
 * framing, bad percent-encoding, oversized headers) and what they would hide (the exact bytes of a HEAD answer,
 * whether the server closed the connection).
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
