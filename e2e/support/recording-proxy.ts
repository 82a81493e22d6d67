/**
 * A recording HTTP proxy for the breach drills: a plain node:http server on 127.0.0.1 that forwards every request
 * to `target` and keeps each request and answer body, so a test sees exactly what crossed the wire between the
 * wallet and the pay server. An optional `rewrite` changes an answer on its way back, which is how a drill plays a
 * compromised pay server toward the wallet (a substitute issuer certificate, say) without touching its code.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface Exchange {
  method: string;
  /** Path and query, as the client sent them. */
  url: string;
  requestBody: string;
  status: number;
  responseBody: string;
}

/** Returns a new answer body for an exchange, or undefined to pass the pay server's answer through unchanged. */
export type AnswerRewrite = (exchange: Exchange) => string | undefined | Promise<string | undefined>;

export interface RecordingProxy {
  url: string;
  exchanges: Exchange[];
  setRewrite(rewrite: AnswerRewrite | undefined): void;
  /** Every request and answer body recorded since `from` (an index into `exchanges`), one string per body. */
  bodies(from?: number): string[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "proxy-connection",
  "te",
  "trailer",
  "content-length",
  "host",
]);

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

async function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export async function startRecordingProxy(
  target: string,
  options: { rewrite?: AnswerRewrite } = {},
): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const exchanges: Exchange[] = [];
  let rewrite = options.rewrite;
  const server = createServer((incoming, outgoing) => {
    void (async () => {
      const requestBody = await readBody(incoming);
      const answer = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>(
        (resolve, reject) => {
          const forwarded = httpRequest(
            {
              host: upstream.hostname,
              port: upstream.port,
              method: incoming.method,
              path: incoming.url,
              headers: { ...forwardable(incoming.headers), "content-length": String(requestBody.length) },
            },
            (response) =>
              void readBody(response).then(
                (body) => resolve({ status: response.statusCode ?? 502, headers: response.headers, body }),
                reject,
              ),
          );
          forwarded.once("error", reject);
          forwarded.end(requestBody);
        },
      );
      const exchange: Exchange = {
        method: incoming.method ?? "GET",
        url: incoming.url ?? "/",
        requestBody: requestBody.toString("utf8"),
        status: answer.status,
        responseBody: answer.body.toString("utf8"),
      };
      const replaced = rewrite ? await rewrite(exchange) : undefined;
      const body = replaced === undefined ? answer.body : Buffer.from(replaced, "utf8");
      exchanges.push({ ...exchange, responseBody: body.toString("utf8") });
      outgoing
        .writeHead(answer.status, { ...forwardable(answer.headers), "content-length": String(body.length) })
        .end(body);
    })().catch((error: unknown) => {
      outgoing
        .writeHead(502, { "content-type": "text/plain" })
        .end(`proxy: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    setRewrite(next) {
      rewrite = next;
    },
    bodies: (from = 0) => exchanges.slice(from).flatMap((e) => [e.requestBody, e.responseBody]),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
