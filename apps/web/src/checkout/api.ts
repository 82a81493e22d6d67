/**
 * The pay server's hosted-checkout routes (web contract, "Hosted checkout"): no sign-in, the payment id is the
 * capability. Answers are checked against the protocol's schemas, so a malformed answer is an error, not a blank.
 */
import { checkoutPushViewSchema, checkoutViewSchema, type CheckoutPushView, type CheckoutView } from "@mpay/protocol";

export type { PaymentStatus } from "@mpay/protocol";
/** `GET /v1/checkout/:paymentId`. */
export type Checkout = CheckoutView;
/** `POST /v1/checkout/:paymentId/push`: 202 whether or not the number has an MPay account. */
export type CheckoutPush = CheckoutPushView;

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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

export function parseCheckout(value: unknown): Checkout {
  const parsed = checkoutViewSchema.safeParse(value);
  if (!parsed.success) throw new CheckoutApiError("invalid_answer", 0, "The pay server's answer is not a checkout");
  return parsed.data;
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
  const parsed = checkoutPushViewSchema.safeParse(body);
  if (!parsed.success) throw new CheckoutApiError("invalid_answer", 0, "The pay server's answer is not a push");
  return parsed.data;
}
