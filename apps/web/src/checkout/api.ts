/**
 * The pay server's hosted-checkout routes (web contract, "Hosted checkout"): no sign-in, the payment id is the
 * capability. Answers are checked for the fields this page shows, so a malformed answer is an error, not a blank.
 */

export type PaymentStatus = "requires_approval" | "authorized" | "captured" | "declined" | "canceled" | "expired";

/** `GET /v1/checkout/:paymentId`. */
export interface Checkout {
  object: "checkout";
  paymentId: string;
  status: PaymentStatus;
  merchant: { name: string };
  itemName: string;
  /** Integer minor units (KRW has none). */
  amount: number;
  currency: string;
  expiresAt: string;
  pairingCode: string;
  mode: string;
  /** The merchant's returnUrl or cancelUrl once the payment is final; null while it waits for approval. */
  redirectUrl: string | null;
}

/** `POST /v1/checkout/:paymentId/push`: 202 whether or not the number has an MPay account. */
export interface CheckoutPush {
  object: "checkout_push";
  pairingCode: string;
  /** Masked, e.g. "+82 10-****-5678". */
  phoneNumber: string;
}

/** A refusal of the pay server (its `error.code`), or `network_error` when it could not be reached. */
export class CheckoutApiError extends Error {
  override readonly name = "CheckoutApiError";
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** From Retry-After on a 429. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

const STATUSES: readonly string[] = ["requires_approval", "authorized", "captured", "declined", "canceled", "expired"];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

export function parseCheckout(value: unknown): Checkout {
  const ok =
    isRecord(value) &&
    value["object"] === "checkout" &&
    typeof value["paymentId"] === "string" &&
    typeof value["status"] === "string" &&
    STATUSES.includes(value["status"]) &&
    isRecord(value["merchant"]) &&
    typeof value["merchant"]["name"] === "string" &&
    typeof value["itemName"] === "string" &&
    Number.isInteger(value["amount"]) &&
    typeof value["currency"] === "string" &&
    typeof value["expiresAt"] === "string" &&
    typeof value["pairingCode"] === "string" &&
    (value["redirectUrl"] === null || typeof value["redirectUrl"] === "string");
  if (!ok) throw new CheckoutApiError("invalid_answer", 0, "The pay server's answer is not a checkout");
  return value as unknown as Checkout;
}

/** Retry-After in seconds (a number of seconds or an HTTP date), null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === "") return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

async function call(url: string, init: RequestInit): Promise<unknown> {
  let answer: Response;
  try {
    answer = await fetch(url, { ...init, cache: "no-store", credentials: "omit" });
  } catch {
    throw new CheckoutApiError("network_error", 0, "The pay server could not be reached");
  }
  const body: unknown = await answer.json().catch(() => null);
  if (answer.ok) return body;
  const error = isRecord(body) && isRecord(body["error"]) ? body["error"] : {};
  throw new CheckoutApiError(
    typeof error["code"] === "string" ? error["code"] : `http_${answer.status}`,
    answer.status,
    typeof error["message"] === "string" ? error["message"] : `HTTP ${answer.status}`,
    retryAfterSeconds(answer.headers.get("retry-after")),
  );
}

const checkoutPath = (payUrl: string, paymentId: string) => `${payUrl}/v1/checkout/${encodeURIComponent(paymentId)}`;

export async function getCheckout(payUrl: string, paymentId: string): Promise<Checkout> {
  return parseCheckout(await call(checkoutPath(payUrl, paymentId), { method: "GET" }));
}

export async function pushToPhone(payUrl: string, paymentId: string, phoneNumber: string): Promise<CheckoutPush> {
  const body = await call(`${checkoutPath(payUrl, paymentId)}/push`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ phoneNumber }),
  });
  if (!isRecord(body) || typeof body["phoneNumber"] !== "string" || typeof body["pairingCode"] !== "string")
    throw new CheckoutApiError("invalid_answer", 0, "The pay server's answer is not a push");
  return body as unknown as CheckoutPush;
}
