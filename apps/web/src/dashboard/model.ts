/**
 * The dashboard's rules, free of React and the browser (tested in Node): what a role may do (mirroring the pay
 * server's permission table, which decides; the screen only hides what would be refused), which actions a payment's
 * state allows, amounts typed by people, list queries, and the chart's scale.
 */
export const ROLES = ["support", "developer", "owner"] as const;
export type Role = (typeof ROLES)[number];
export type Mode = "test" | "live";

/** What a screen offers, with the least role the pay server accepts for it (merchant-users/permissions.ts). */
export const ACTION_ROLES = {
  capture: "developer",
  cancel: "developer",
  refund: "developer",
  retryDelivery: "developer",
  rollKey: "developer",
  manageWebhooks: "developer",
  manageTeam: "owner",
} as const satisfies Record<string, Role>;
export type Action = keyof typeof ACTION_ROLES;

export function can(role: Role, action: Action): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(ACTION_ROLES[action]);
}

export const PAYMENT_STATUSES = [
  "requires_approval",
  "authorized",
  "captured",
  "declined",
  "canceled",
  "expired",
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** The payment actions its state allows (payments/state-machine.ts), before any role is considered. */
export function paymentActions(payment: {
  status: string;
  amountRefundable: number;
}): Array<"capture" | "cancel" | "refund"> {
  const actions: Array<"capture" | "cancel" | "refund"> = [];
  if (payment.status === "authorized") actions.push("capture");
  if (payment.status === "authorized" || payment.status === "requires_approval") actions.push("cancel");
  if (payment.status === "captured" && payment.amountRefundable > 0) actions.push("refund");
  return actions;
}

/**
 * What a payment's badge says: its state, except that a captured payment given back in part or in whole says so
 * (Stripe's "Partially refunded" / "Refunded"); the API's `status` stays `captured` either way.
 */
export function displayStatus(payment: { status: string; amountCaptured: number; amountRefunded: number }): string {
  if (payment.status !== "captured" || payment.amountRefunded === 0) return payment.status;
  return payment.amountRefunded >= payment.amountCaptured ? "refunded" : "partially_refunded";
}

/** Digits after the decimal point of a currency (KRW and JPY 0, USD 2), as Intl knows them. */
export function minorDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

export type AmountCheck =
  | { ok: true; amount: number }
  | { ok: false; reason: "empty" | "invalid" | "zero" | "too_precise" | "too_large" };

/**
 * An amount a person typed in major units (`12,000` KRW, `10.50` USD) as integer minor units, at most `max`. Group
 * separators and spaces are allowed; a sign, an exponent or more decimals than the currency has are not.
 */
export function parseAmount(text: string, currency: string, max: number): AmountCheck {
  const cleaned = text.replace(/[\s,_]/g, "");
  if (cleaned === "") return { ok: false, reason: "empty" };
  const match = /^(\d+)(?:\.(\d*))?$/.exec(cleaned);
  if (!match) return { ok: false, reason: "invalid" };
  const digits = minorDigits(currency);
  const fraction = match[2] ?? "";
  if (fraction.replace(/0+$/, "").length > digits) return { ok: false, reason: "too_precise" };
  const amount = Number(match[1]) * 10 ** digits + Number(fraction.padEnd(digits, "0").slice(0, digits) || "0");
  if (!Number.isSafeInteger(amount)) return { ok: false, reason: "too_large" };
  if (amount === 0) return { ok: false, reason: "zero" };
  if (amount > max) return { ok: false, reason: "too_large" };
  return { ok: true, amount };
}

/** Minor units as a person types them back (`12000`, `10.50`), for a field's first value. */
export function amountInput(amount: number, currency: string): string {
  const digits = minorDigits(currency);
  return digits === 0 ? String(amount) : (amount / 10 ** digits).toFixed(digits);
}

export interface PaymentFilters {
  q: string;
  status: PaymentStatus | "";
  /** `YYYY-MM-DD` (a date input's value), in the reader's time zone; empty for no bound. */
  from: string;
  to: string;
}

export const NO_FILTERS: PaymentFilters = { q: "", status: "", from: "", to: "" };

/** The start of a local calendar day as an instant (`2026-12-04` → its midnight here, in ISO 8601). */
export function dayStart(date: string, plusDays = 0): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return null;
  return new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + plusDays).toISOString();
}

/**
 * The list's (and the export's) query for the filters: `to` is inclusive for a person (payments of that day too), so
 * the query's `createdTo` is the start of the next day.
 */
export function filterQuery(filters: PaymentFilters): URLSearchParams {
  const query = new URLSearchParams();
  const q = filters.q.trim();
  if (q) query.set("q", q.slice(0, 100));
  if (filters.status) query.set("status", filters.status);
  const from = filters.from ? dayStart(filters.from) : null;
  const to = filters.to ? dayStart(filters.to, 1) : null;
  if (from) query.set("createdFrom", from);
  if (to) query.set("createdTo", to);
  return query;
}

/** A window that ends before it starts: said at the form, never sent. */
export function filtersInvalid(filters: PaymentFilters): boolean {
  return filters.from !== "" && filters.to !== "" && filters.to < filters.from;
}

/**
 * Pages of a newest-first list walked with `startingAfter`: the cursors of the pages seen, so Previous goes back
 * without a cursor the API does not have (`endingBefore`).
 */
export interface Pager {
  /** `startingAfter` of each page seen; the first page's is undefined. */
  cursors: Array<string | undefined>;
}

export const firstPage = (): Pager => ({ cursors: [undefined] });
export const currentCursor = (pager: Pager) => pager.cursors.at(-1);
export const nextPage = (pager: Pager, lastId: string): Pager => ({ cursors: [...pager.cursors, lastId] });
export const previousPage = (pager: Pager): Pager =>
  pager.cursors.length > 1 ? { cursors: pager.cursors.slice(0, -1) } : pager;
export const pageNumber = (pager: Pager) => pager.cursors.length;

/** A round top for a chart's axis: 1, 2 or 5 times a power of ten, at least the largest value (1 for all zeros). */
export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** The old secret key's grace period choices when a key is rolled (the API allows 0 to 7 days). */
export const ROLL_EXPIRIES = [0, 3600, 86_400, 604_800] as const;

/** The last four characters of a secret, for saying which one without showing it. */
export function lastFour(secret: string): string {
  return secret.slice(-4);
}

/** The webhook events a merchant can subscribe to (packages/protocol EVENT_TYPES). */
export const EVENT_TYPES = [
  "payment.authorized",
  "payment.captured",
  "payment.canceled",
  "payment.declined",
  "payment.expired",
  "refund.succeeded",
  "mandate.created",
  "mandate.revoked",
  "webhook_endpoint.disabled",
] as const;

/** The fields of a webhook endpoint that say whether it is healthy (the pay server's endpoint view). */
export interface EndpointHealthFields {
  status: "enabled" | "disabled";
  disabledAt?: string | null | undefined;
  disabledReason?: "merchant" | "auto_disabled" | null | undefined;
  failingSince?: string | null | undefined;
}

/**
 * What the webhooks screen says under an endpoint: MPay disabled it for failing (when, and failing since when: the
 * merchant fixes it and enables it again), or it is failing now and will be disabled if it goes on; else nothing.
 */
export function endpointNotice(
  e: EndpointHealthFields,
):
  | { kind: "autoDisabled"; disabledAt: string; failingSince: string }
  | { kind: "failing"; failingSince: string }
  | null {
  if (e.status === "disabled" && e.disabledReason === "auto_disabled" && e.disabledAt)
    return { kind: "autoDisabled", disabledAt: e.disabledAt, failingSince: e.failingSince ?? e.disabledAt };
  if (e.status === "enabled" && e.failingSince) return { kind: "failing", failingSince: e.failingSince };
  return null;
}

/** Only dashboard paths: a crafted link must not turn the sign-in into a redirect elsewhere. */
export function safeDashboardPath(path: string | null | undefined): string {
  if (typeof path !== "string" || !/^\/dashboard\/[a-z]+(\/[A-Za-z0-9_]+)?$/.test(path)) return "/dashboard/payments";
  return path;
}

/** A refusal of a sign-in step that has its own `signIn.*` text (in the dashboard's and the console's texts alike). */
export type SignInRefusal = "failed" | "locked" | "codeWrong" | "challengeExpired" | "passkeyCanceled";

/**
 * Which sign-in text a refusal gets, by the stable code the pay server's sign-in routes answer (the dashboard's and
 * the console's have the same codes: merchant-users/service.ts, staff/service.ts), or a canceled passkey prompt
 * (WebAuthn's `NotAllowedError`); undefined for anything else, which the general error wording takes.
 */
export function signInRefusal(code: string | undefined, errorName?: string): SignInRefusal | undefined {
  if (code === "sign_in_failed") return "failed";
  if (code === "sign_in_locked") return "locked";
  if (code === "totp_invalid") return "codeWrong";
  if (code === "sign_in_challenge_invalid") return "challengeExpired";
  if (errorName === "NotAllowedError") return "passkeyCanceled";
  return undefined;
}
