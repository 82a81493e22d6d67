/**
 * A merchant's webhook endpoint for whole-system tests: a plain node:http server on 127.0.0.1 that verifies every
 * message with the off-the-shelf `standardwebhooks` library (as a merchant would), records it, and answers with
 * the status its policy chooses — so a test can make deliveries fail, then succeed.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface ReceivedMessage {
  /** 0-based arrival order at this receiver. */
  index: number;
  webhookId: string;
  /** The event type from the parsed body, or null when the body was not a JSON event. */
  type: string | null;
  /** The event id from the parsed body, or null. */
  eventId: string | null;
  /** Whether `new Webhook(secret).verify(body, headers)` accepted the message. */
  verified: boolean;
  /** What this receiver answered. */
  answered: number;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

/** Chooses the answer to a message from its arrival index (0-based). */
export type AnswerPolicy = (index: number, message: Omit<ReceivedMessage, "answered">) => number;

export interface WebhookReceiver {
  url: string;
  messages: ReceivedMessage[];
  setPolicy(policy: AnswerPolicy): void;
  /** Messages answered with a 2xx. */
  accepted(): ReceivedMessage[];
  close(): Promise<void>;
}

/** Fails the first `failures` messages with 500, accepts every later one with 200. */
export function failFirst(failures: number): AnswerPolicy {
  return (index) => (index < failures ? 500 : 200);
}

/**
 * `secret` may be a function: an endpoint's own secret is known only once the endpoint exists, which needs this
 * receiver's URL first.
 */
export async function startWebhookReceiver(
  secret: string | (() => string),
  policy: AnswerPolicy,
): Promise<WebhookReceiver> {
  const messages: ReceivedMessage[] = [];
  let current = policy;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === "string") headers[name] = value;
        else if (Array.isArray(value)) headers[name] = value.join(", ");
      }
      let verified = false;
      try {
        new Webhook(typeof secret === "string" ? secret : secret()).verify(body, headers);
        verified = true;
      } catch {
        verified = false;
      }
      let type: string | null = null;
      let eventId: string | null = null;
      try {
        const parsed = JSON.parse(body) as { type?: unknown; id?: unknown };
        type = typeof parsed.type === "string" ? parsed.type : null;
        eventId = typeof parsed.id === "string" ? parsed.id : null;
      } catch {
        type = null;
      }
      const seen = {
        index: messages.length,
        webhookId: headers["webhook-id"] ?? "",
        type,
        eventId,
        verified,
        headers: request.headers,
        body,
        receivedAt: Date.now(),
      };
      const answered = current(seen.index, seen);
      messages.push({ ...seen, answered });
      response.writeHead(answered, { "content-type": "text/plain" }).end(answered < 300 ? "ok" : "try again");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    messages,
    setPolicy(next) {
      current = next;
    },
    accepted: () => messages.filter((m) => m.answered >= 200 && m.answered < 300),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
