/**
 * What the checkout page shows for a payment, as pure functions (no DOM, no i18next), so they are tested alone:
 * the phase of a status, the words for a refusal of the push, and the live follow of the payment.
 */
import { CheckoutApiError, type Checkout, type PaymentStatus } from "./api.ts";

export type Phase = "waiting" | "succeeded" | "failed";

export function phaseOf(status: PaymentStatus): Phase {
  switch (status) {
    case "requires_approval":
      return "waiting";
    case "authorized":
    case "captured":
      return "succeeded";
    case "declined":
    case "canceled":
    case "expired":
      return "failed";
  }
}

/** A text key of the checkout namespace with its values. */
export interface Message {
  key: string;
  values?: Record<string, string>;
}

/** "in 4 minutes" / "4분 후": when a rate-limited push may be tried again. */
export function retryWhen(seconds: number, language: string): string {
  const format = new Intl.RelativeTimeFormat(language, { numeric: "always" });
  if (seconds < 60) return format.format(Math.max(1, seconds), "second");
  return format.format(Math.ceil(seconds / 60), "minute");
}

/** The words for a push that failed, by the pay server's error code. */
export function pushFailure(error: unknown, language: string): Message {
  if (!(error instanceof CheckoutApiError)) return { key: "pushFailed" };
  switch (error.code) {
    case "phone_number_invalid":
      return { key: "phoneInvalid" };
    case "push_rate_limited":
      return error.retryAfterSeconds === null
        ? { key: "rateLimitedLater" }
        : { key: "rateLimited", values: { when: retryWhen(error.retryAfterSeconds, language) } };
    case "payment_not_pending":
      return { key: "notPending" };
    case "network_error":
      return { key: "offline" };
    default:
      return { key: "pushFailed" };
  }
}

/**
 * The number as the pay server takes it: international format (`+82 10-1234-5678`). People in Korea type their
 * mobile number as they know it (`010-1234-5678`); that form, and only that one, is turned into +82 here, since it
 * is unambiguous. Anything else goes as typed and the pay server says whether it is a number.
 */
export function internationalPhoneNumber(typed: string): string {
  const trimmed = typed.trim();
  const digits = trimmed.replace(/[\s\-.()]/g, "");
  if (/^01[016789][0-9]{7,8}$/.test(digits)) return `+82${digits.slice(1)}`;
  return trimmed;
}

/** Only a web address may be the merchant's return: never `javascript:` or another scheme. */
export function safeRedirect(url: string | null): string | null {
  if (url === null) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.toString() : null;
  } catch {
    return null;
  }
}

export const POLL_INTERVAL_MS = 1500;

export interface FollowOptions {
  load(): Promise<Checkout>;
  /** Each answer (the first one included). */
  onCheckout(checkout: Checkout): void;
  /** A failed load; the follow goes on unless the payment does not exist. */
  onError(error: unknown): void;
  signal: AbortSignal;
  intervalMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/**
 * Follows a payment: loads it, then again every 1.5 s until it is final (authorized, captured, declined, canceled,
 * expired), it does not exist, or `signal` aborts. Polling, not a socket: the page holds no session to open one
 * with, and 1.5 s is quicker than a payer turns from the phone back to the screen.
 */
export async function followCheckout(options: FollowOptions): Promise<void> {
  const sleep = options.sleep ?? abortableSleep;
  const interval = options.intervalMs ?? POLL_INTERVAL_MS;
  while (!options.signal.aborted) {
    try {
      const checkout = await options.load();
      if (options.signal.aborted) return;
      options.onCheckout(checkout);
      if (phaseOf(checkout.status) !== "waiting") return;
    } catch (error) {
      if (options.signal.aborted) return;
      options.onError(error);
      if (error instanceof CheckoutApiError && error.status === 404) return;
    }
    await sleep(interval, options.signal);
  }
}
