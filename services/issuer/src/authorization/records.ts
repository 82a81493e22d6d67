/** An authorization row in the protocol's shapes: the decision (answer) and the books of the payment (record). */
import type { AuthorizationAnswer, AuthorizationRecord, DeclineCode } from "@mpay/protocol";
import type { AuthorizationRow } from "./store.ts";

export function answerOf(row: AuthorizationRow): AuthorizationAnswer {
  const decidedAt = row.decidedAt.toISOString();
  if (row.decision === "approved")
    return {
      paymentId: row.paymentId,
      decision: "approved",
      authorizationCode: row.authorizationCode ?? "",
      decidedAt,
    };
  return {
    paymentId: row.paymentId,
    decision: "declined",
    declineCode: (row.declineCode ?? "do_not_honor") as DeclineCode,
    decidedAt,
  };
}

export function recordOf(row: AuthorizationRow): AuthorizationRecord {
  return {
    paymentId: row.paymentId,
    status: row.status as AuthorizationRecord["status"],
    decision: answerOf(row),
    amount: row.amount,
    amountCaptured: row.amountCaptured,
    amountRefunded: row.amountRefunded,
    currency: row.currency,
  };
}
