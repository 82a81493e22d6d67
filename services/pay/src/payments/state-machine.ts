/**
 * The one place that decides which payment transitions are legal (drawn in README.md beside this file).
 * Every service operation asks `nextStatus` before it writes; an illegal transition is a 409 with a stable code.
 */
import type { PaymentStatus } from "@mpay/protocol";
import { ApiError } from "../http/errors.ts";

export type PaymentAction = "approve" | "decline" | "capture" | "cancel" | "expire" | "refund";

const TRANSITIONS: Record<PaymentStatus, Partial<Record<PaymentAction, PaymentStatus>>> = {
  requires_approval: { approve: "authorized", decline: "declined", cancel: "canceled", expire: "expired" },
  authorized: { capture: "captured", cancel: "canceled", expire: "expired" },
  // A refund is an object of its own; the payment stays captured however much is refunded.
  captured: { refund: "captured" },
  declined: {},
  canceled: {},
  expired: {},
};

export function canTransition(from: PaymentStatus, action: PaymentAction): boolean {
  return TRANSITIONS[from][action] !== undefined;
}

const VERB: Record<PaymentAction, string> = {
  approve: "approved",
  decline: "declined",
  capture: "captured",
  cancel: "canceled",
  expire: "expired",
  refund: "refunded",
};

export function nextStatus(from: PaymentStatus, action: PaymentAction): PaymentStatus {
  const to = TRANSITIONS[from][action];
  if (!to) {
    throw new ApiError("payment_invalid_state", `A payment in status ${from} cannot be ${VERB[action]}.`);
  }
  return to;
}

export function isFinal(status: PaymentStatus): boolean {
  return Object.keys(TRANSITIONS[status]).length === 0;
}
