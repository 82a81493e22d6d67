/**
 * Verifying MPay's webhooks (Standard Webhooks, https://www.standardwebhooks.com; docs/merchant-api.md "Webhooks"):
 * `webhook-signature` holds `v1,<base64 HMAC-SHA256>` under the endpoint's `whsec_` secret of
 * `${webhook-id}.${webhook-timestamp}.${body}`, plus `v1a,<base64 Ed25519>` for endpoints that asked for it.
 * Checked: the three headers are there, the timestamp is within the tolerance (a replayed old message is refused),
 * and a signature matches in constant time — v1 under one of the secrets given (several while a secret rotates), or,
 * when the endpoint's `whpk_` public key is given, v1a under it (a stolen copy of the secret cannot forge those).
 * A failure says which check failed (`reason`) and the likely cause in its message; never a secret.
 *
 * Usable alone (`@mpay/merchant/webhooks`) in a receiver that has no API key.
 */
import { createHmac, createPublicKey, randomUUID, timingSafeEqual, verify as verifySignature } from "node:crypto";
import { MPayError } from "./errors.ts";
import type { Event } from "./types.ts";

export type WebhookVerificationReason = "missing_headers" | "stale_timestamp" | "bad_signature" | "bad_payload";

export class WebhookVerificationError extends MPayError {
  readonly reason: WebhookVerificationReason;
  constructor(reason: WebhookVerificationReason, message: string) {
    super({ type: "webhook_verification_error", code: reason, message });
    this.reason = reason;
  }
}

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How old (or how far in the future) a message may be, in seconds (default 300, the standard's). */
  toleranceSeconds?: number;
  /** The endpoint's `whpk_` key: then a valid v1a (Ed25519) signature is required. */
  publicKey?: string;
  /** The time to check against (tests). */
  now?: Date;
}

const SECRET_PREFIX = "whsec_";
const PUBLIC_KEY_PREFIX = "whpk_";
const DEFAULT_TOLERANCE_SECONDS = 300;

/** Verifies a delivery and returns its event; throws WebhookVerificationError saying why not. */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string | string[],
  options: VerifyOptions = {},
): Event {
  const body = rawText(rawBody);
  const msgId = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signature = header(headers, "webhook-signature");
  const missing = [
    ["webhook-id", msgId],
    ["webhook-timestamp", timestamp],
    ["webhook-signature", signature],
  ]
    .filter(([, value]) => !value)
    .map(([name]) => name);
  if (missing.length > 0 || !msgId || !timestamp || !signature) {
    throw new WebhookVerificationError(
      "missing_headers",
      `The request has no ${missing.join(", ")} header: pass the headers exactly as received (Express: req.headers, ` +
        "fetch: request.headers); a proxy in front of this server may be dropping them, or this is not a request from MPay.",
    );
  }
  checkTimestamp(timestamp, options);
  const signed = `${msgId}.${timestamp}.${body}`;
  const signatures = signature.split(" ").filter(Boolean);
  if (options.publicKey !== undefined) checkV1a(signatures, signed, options.publicKey);
  else checkV1(signatures, signed, Array.isArray(secret) ? secret : [secret], body);
  return parseEvent(body);
}

export interface TestHeadersInput {
  /** The exact body you will send (the JSON text). */
  payload: string;
  secret: string;
  timestamp?: Date;
  msgId?: string;
}

/** Headers that verify for `payload` under `secret`: for testing a webhook receiver without MPay. */
export function webhookTestHeaders(input: TestHeadersInput): Record<string, string> {
  const msgId = input.msgId ?? `msg_test_${randomUUID().replaceAll("-", "")}`;
  const timestamp = Math.floor((input.timestamp ?? new Date()).getTime() / 1000);
  const mac = hmac(secretKey(input.secret), `${msgId}.${timestamp}.${input.payload}`);
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${mac.toString("base64")}`,
    "content-type": "application/json",
  };
}

function rawText(rawBody: unknown): string {
  if (typeof rawBody === "string") return rawBody;
  if (rawBody instanceof Uint8Array)
    return Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength).toString("utf8");
  throw new WebhookVerificationError(
    "bad_payload",
    "The body must be the raw request body (a string or bytes), not a parsed object: the signature covers the exact " +
      "bytes MPay sent, and parsing and re-serializing changes them. Express: express.raw({ type: 'application/json' }); " +
      "Fastify: a content-type parser that keeps the string; fetch: await request.text().",
  );
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

function checkTimestamp(timestamp: string, options: VerifyOptions): void {
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (!/^\d{1,12}$/.test(timestamp)) {
    throw new WebhookVerificationError(
      "stale_timestamp",
      /^\d{13,}$/.test(timestamp)
        ? "webhook-timestamp is in milliseconds; the standard (and MPay) sends seconds: the headers were not made by MPay."
        : "webhook-timestamp is not a Unix time in seconds: the headers were not made by MPay.",
    );
  }
  const age = now - Number(timestamp);
  if (Math.abs(age) > tolerance) {
    const direction = age > 0 ? `${age} s old` : `${-age} s in the future`;
    throw new WebhookVerificationError(
      "stale_timestamp",
      `The message is ${direction}, outside the ${tolerance} s tolerance. MPay signs every attempt afresh, so a genuine ` +
        "delivery is never old: either this is a replay of an old message (ignore it), or this server's clock is off " +
        "(clock skew: check NTP), or the message sat in a queue before verification (verify on receipt).",
    );
  }
}

function checkV1(signatures: string[], signed: string, secrets: string[], body: string): void {
  const given = signatures.filter((s) => s.startsWith("v1,")).map((s) => Buffer.from(s.slice(3), "base64"));
  if (given.length === 0) {
    throw new WebhookVerificationError(
      "bad_signature",
      "webhook-signature has no v1 signature: every MPay delivery carries one, so this request was not made by MPay.",
    );
  }
  if (secrets.length === 0) throw new TypeError("Pass the endpoint's whsec_ secret (or several while it rotates).");
  for (const secret of secrets) {
    const expected = hmac(secretKey(secret), signed);
    // Every candidate is compared in full, in constant time; lengths are public (a SHA-256 MAC is 32 bytes).
    if (given.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) return;
  }
  throw new WebhookVerificationError("bad_signature", mismatchMessage(body, secrets.length));
}

function mismatchMessage(body: string, secretCount: number): string {
  const secrets = secretCount === 1 ? "the secret given" : `any of the ${secretCount} secrets given`;
  if (reserialized(body)) {
    return (
      `No v1 signature matches under ${secrets}, and the body is not compact JSON as MPay sends it: the body was ` +
      "likely parsed and re-serialized (or re-encoded) before verification; pass the raw body, exactly the bytes received."
    );
  }
  return (
    `No v1 signature matches under ${secrets}. Likely causes: a wrong secret (each endpoint has its own whsec_, and ` +
    "test and live mode differ; after a rotation pass the old and the new one), or a body changed after it arrived " +
    "(pass the raw body, exactly the bytes received, not a parsed and re-serialized object)."
  );
}

/** MPay sends `JSON.stringify` output; a body that is JSON but not in that form was rewritten on the way. */
function reserialized(body: string): boolean {
  try {
    return JSON.stringify(JSON.parse(body)) !== body;
  } catch {
    return false;
  }
}

function checkV1a(signatures: string[], signed: string, publicKey: string): void {
  const given = signatures.filter((s) => s.startsWith("v1a,")).map((s) => Buffer.from(s.slice(4), "base64"));
  if (given.length === 0) {
    throw new WebhookVerificationError(
      "bad_signature",
      "A whpk_ public key was given but webhook-signature has no v1a signature: the endpoint was created without " +
        'signatures: ["v1", "v1a"], or this request was not made by MPay.',
    );
  }
  const key = ed25519PublicKey(publicKey);
  const content = Buffer.from(signed, "utf8");
  if (given.some((candidate) => candidate.length === 64 && verifySignature(null, content, key, candidate))) return;
  throw new WebhookVerificationError(
    "bad_signature",
    "No v1a signature verifies under the whpk_ key given. Likely causes: another endpoint's key (each endpoint has its " +
      "own), or a body changed after it arrived (pass the raw body, exactly the bytes received).",
  );
}

function hmac(key: Buffer, content: string): Buffer {
  return createHmac("sha256", key).update(content, "utf8").digest();
}

function secretKey(secret: string): Buffer {
  if (typeof secret !== "string" || !secret.startsWith(SECRET_PREFIX)) {
    throw new TypeError(
      secret?.startsWith?.("sk_") || secret?.startsWith?.("pk_")
        ? "That is an API key, not a webhook secret: pass the endpoint's whsec_ secret."
        : "A webhook secret starts with whsec_ (the endpoint's signing secret).",
    );
  }
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
  if (key.length < 24) throw new TypeError("That whsec_ secret is too short: copy it whole.");
  return key;
}

function ed25519PublicKey(publicKey: string) {
  const raw = publicKey.startsWith(PUBLIC_KEY_PREFIX)
    ? Buffer.from(publicKey.slice(PUBLIC_KEY_PREFIX.length), "base64")
    : Buffer.alloc(0);
  if (raw.length !== 32)
    throw new TypeError("A v1a public key is whpk_ followed by 32 bytes in base64: copy it whole.");
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
}

function parseEvent(body: string): Event {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new WebhookVerificationError("bad_payload", "The signature matches but the body is not JSON.");
  }
  const event = parsed as { object?: unknown; type?: unknown; id?: unknown } | null;
  if (!event || event.object !== "event" || typeof event.type !== "string" || typeof event.id !== "string") {
    throw new WebhookVerificationError("bad_payload", "The signature matches but the body is not an MPay event.");
  }
  return parsed as Event;
}

/** The same two functions on the client: `mpay.webhooks.verify(…)`, `mpay.webhooks.testHeaders(…)`. */
export class Webhooks {
  verify(
    rawBody: string | Uint8Array,
    headers: WebhookHeaders,
    secret: string | string[],
    options: VerifyOptions = {},
  ): Event {
    return verifyWebhook(rawBody, headers, secret, options);
  }
  testHeaders(input: TestHeadersInput): Record<string, string> {
    return webhookTestHeaders(input);
  }
}
