/** Payment states and webhook event types shared by the pay server, SDKs and the web apps. */
export const PAYMENT_STATUSES = [
  "requires_approval",
  "authorized",
  "captured",
  "declined",
  "canceled",
  "expired",
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const CAPTURE_METHODS = ["automatic", "manual"] as const;
export type CaptureMethod = (typeof CAPTURE_METHODS)[number];

export const EVENT_TYPES = [
  "payment.authorized",
  "payment.captured",
  "payment.canceled",
  "payment.declined",
  "payment.expired",
  "refund.succeeded",
  /** A payer gave the merchant a card-on-file mandate (with the payment it names). */
  "mandate.created",
  /** The payer withdrew a mandate: charges with it are declined from now on. */
  "mandate.revoked",
  /** MPay disabled one of the merchant's webhook endpoints after it failed for days (sent to its other endpoints). */
  "webhook_endpoint.disabled",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type Mode = "test" | "live";
