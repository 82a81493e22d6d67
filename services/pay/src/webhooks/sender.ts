// One HTTP delivery attempt of a signed webhook. Retries, backoff and the outbox live elsewhere; this file only
// answers "did the merchant's endpoint accept this message, and if not, why" without leaking what was sent.
import { request as httpRequest } from "node:http";
import type { RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { guardedLookup, validateWebhookUrl } from "./url-guard.ts";
import type { WebhookMode, WebhookUrlCode } from "./url-guard.ts";

export interface DeliveryInput {
  url: string;
  mode: WebhookMode;
  headers: Record<string, string>; // from webhookHeaders(): signed, so sent unchanged
  body: string;
  timeoutMs?: number | undefined; // whole attempt: lookup + connect + TLS + response
}

export interface DeliveryResult {
  ok: boolean;
  statusCode?: number;
  error?: string; // short, fixed vocabulary; never headers, body or the server's response text
  durationMs: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// Receivers are told to answer quickly with an empty body; we read a little so a well-behaved server can finish
// writing, and never more, so a hostile one cannot make us buffer.
const MAX_RESPONSE_BYTES = 4096;
const USER_AGENT = "MPay-Webhooks/1";

export function deliver(input: DeliveryInput): Promise<DeliveryResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const timeoutMs = input.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError("timeoutMs must be a positive number");

  // Checked again on every attempt, not only at registration: IP literals never reach guardedLookup.
  const checked = validateWebhookUrl(input.url, input.mode);
  if (!checked.ok) return Promise.resolve({ ok: false, error: URL_ERRORS[checked.code], durationMs: elapsed() });
  const url = checked.url;

  const body = Buffer.from(input.body, "utf8");
  const options: RequestOptions = {
    method: "POST",
    // content-length last so a caller's header cannot disagree with the bytes we send.
    headers: { "user-agent": USER_AGENT, ...input.headers, "content-length": String(body.length) },
    lookup: guardedLookup(input.mode),
    // No pooled keep-alive socket: every attempt connects afresh through guardedLookup, and the timeout can
    // simply destroy the socket. (Node's request never follows redirects on its own.)
    agent: false,
  };

  return new Promise((resolve) => {
    let settled = false;
    let statusCode: number | undefined;
    const req = url.protocol === "https:" ? httpsRequest(url, options) : httpRequest(url, options);
    const timer = setTimeout(() => {
      if (statusCode !== undefined) finishWithStatus();
      else finish({ ok: false, error: "timeout" });
    }, timeoutMs);

    const finish = (result: Omit<DeliveryResult, "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...result, durationMs: elapsed() });
    };
    // Once the status line has arrived the receiver has answered; a slow or endless body does not change that.
    const finishWithStatus = () => finish(statusResult(statusCode ?? 0));

    req.on("response", (res) => {
      statusCode = res.statusCode ?? 0;
      let received = 0;
      res.on("data", (chunk: Buffer) => {
        received += chunk.length; // discarded: counted, never stored
        if (received >= MAX_RESPONSE_BYTES) finishWithStatus();
      });
      res.on("end", finishWithStatus);
      res.on("error", finishWithStatus); // e.g. the reset caused by our own destroy(); must not go unhandled
    });
    req.on("error", (err) => finish({ ok: false, error: describeNetworkError(err) }));
    req.end(body);
  });
}

const URL_ERRORS: Record<WebhookUrlCode, string> = {
  webhook_url_invalid: "invalid url",
  webhook_url_insecure: "https required",
  webhook_url_private: "address not allowed",
};

function statusResult(statusCode: number): Omit<DeliveryResult, "durationMs"> {
  if (statusCode >= 200 && statusCode < 300) return { ok: true, statusCode };
  // Standard Webhooks: 3xx is a failure; the merchant should register the final URL instead.
  if (statusCode >= 300 && statusCode < 400) {
    return { ok: false, statusCode, error: `redirect not followed (status ${statusCode})` };
  }
  return { ok: false, statusCode, error: `status ${statusCode}` };
}

// Maps a socket/DNS/TLS error to a short reason. Error messages are not used: they can carry hostnames,
// addresses or certificate details, and this string is stored and shown to merchants.
export function describeNetworkError(err: unknown): string {
  const code = errorCode(err);
  if (code === undefined) return "network error";
  if (code === "webhook_url_private") return "address not allowed";
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "EPIPE") return "connection reset";
  if (code === "ETIMEDOUT") return "timeout";
  if (["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "ENODATA"].includes(code)) return "dns lookup failed";
  if (["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN"].includes(code)) return "host unreachable";
  if (code.startsWith("HPE_")) return "invalid http response";
  if (/TLS|SSL|CERT|UNABLE_TO_|ERR_OSSL/.test(code)) return "tls error";
  return "network error";
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  if ("code" in err && typeof err.code === "string") return err.code;
  // With autoSelectFamily, a failure on every address arrives as an AggregateError of per-address errors.
  if (err instanceof AggregateError) return errorCode(err.errors[0]);
  return undefined;
}
